"""Page of Figure 3: the loss manifold of a toy in closed form, from figures/fig3_manifold.json."""
from docs.fmt import Claim, claims_of, num, sig, table, verdict_of
from experiments import fig3_manifold as script  # the claim's rule and its tolerance (script.claims, script.EXACT)

NAME = "fig3_manifold"


def claims(R):
    return [Claim(c["claim"], c["statement"],
                  f"both hypergradients {num(c['numbers']['hypergrad_best_response'], 0)} at λ̂ = "
                  f"{num(c['numbers']['lam_hat'], 0)}, as the closed form", verdict_of(c), "no seed: a closed form")
            for c in claims_of(script, R, NAME, seeds=False)]


def page(R):
    m = R(NAME)["metrics"]
    rows = [(f"w* minimises L_T over w (max error on a w grid of step {sig(m['w_grid_step'], 1)})", "0",
             f"{sig(m['best_response_max_abs_error'])} (half a grid step)"),
            (f"slope of w* at λ̂ = {num(m['lam_hat'], 0)}, by autograd / by the implicit-function theorem", "−1",
             f"{num(m['tangent_slope'], 0)} / {num(m['implicit_slope'], 0)}"),
            ("hypergradient dL_V/dλ at λ̂ through w* / through the tangent", "−1",
             f"{num(m['hypergrad_best_response'], 0)} / {num(m['hypergrad_linear'], 0)} (finite difference "
             f"{num(m['hypergrad_finite_difference'], 11)})"),
            ("λ minimising L_V along w* / along the tangent", "π/2",
             f"{num(m['lam_star'])} / {num(m['lam_star_linear'])} (λ grid step {sig(m['lam_grid_step'], 1)})")]
    return "\n".join([
        "Everything is in closed form (the original code's toy): training loss "
        "L_T(w, λ) = −logaddexp(−1, −(w − sin(λ+π))²) − (λ + sin 2λ)/10, best response w*(λ) = sin(λ+π), "
        "validation loss L_V(w) = sin w. As in the paper, the left panel draws the exact best response (blue) on "
        "the training-loss surface with a linear approximation fitted at λ̂ = 0 (red, the tangent w = −λ); the "
        "right panel shows the validation loss along each, L_V(w*(λ)) and L_V(−λ). The script checks with autograd "
        "what the figure says:", "",
        table((f"(`figures/{NAME}.json`)", "closed form", "this repository"), rows), "",
        "The caption says the approximation's optimum λ_φ* lies near λ*; in this toy the two coincide at π/2 "
        "(sin λ = 1 minimises both −sin(sin λ) and −sin λ), although the weights there differ "
        f"({num(m['w_at_lam_star'], 3)} against {num(m['w_at_lam_star_linear'], 3)}). The point of the figure holds "
        "exactly: near λ̂ a local approximation of w*(λ) gives the hypergradient of L_V(w*(λ)). Nothing here is "
        "random, so there are no seeds to vary."])
