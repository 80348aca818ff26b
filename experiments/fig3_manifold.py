"""Figure 3 of Lorraine & Duvenaud (2018): the loss manifold, exact and approximate best responses.

A toy with one weight w and one hyperparameter lam, everything in closed form:
    training loss    L_T(w, lam) = -logaddexp(-1, -(w - sin(lam + pi))^2) - (lam + sin(2 lam)) / 10
    best response    w*(lam) = sin(lam + pi)        (the first term is smallest at w = sin(lam + pi);
                                                    the second does not depend on w)
    validation loss  L_V(w) = sin(w)
The validation loss as a function of lam is L_V(w*(lam)). A linear best-response approximation
fitted at lam_hat (here the tangent of w*, which is w = -lam at lam_hat = 0) gives the same
hypergradient d L_V / d lam at lam_hat, and its own validation curve L_V(w_lin(lam)) nearby.

    python experiments/fig3_manifold.py [--quick] [--out DIR] [--plot-only]

What run() checks numerically (autograd for every derivative):
- w*(lam) minimises L_T: the argmin over a dense w grid against sin(lam + pi), and dL_T/dw = 0
  along w*(lam);
- the tangent slope dw*/dlam at lam_hat, by autograd on w*(lam) and by the implicit-function
  theorem on L_T alone, -(d2L_T/dw2)^-1 d2L_T/dw dlam (what a method without the closed form uses);
- the hypergradient at lam_hat through w*(lam), through the tangent, by finite differences and in
  closed form cos(sin(lam_hat + pi)) cos(lam_hat + pi);
- the minimisers lam* of L_V(w*(lam)) and lam_phi* of L_V(w_lin(lam)) on the lam grid. In this
  toy both are pi/2: L_V(w*(lam)) = -sin(sin lam) and L_V(-lam) = -sin lam are smallest where
  sin lam = 1, so the caption's "nearby" is exact here, although the weights differ (w*(pi/2) = -1,
  the line's -pi/2).
The plotted range lam, w in [-2, 2] holds lam_hat, both minimisers and the line w = -lam.
Nothing here is random; the seed only keeps the command line the same as the other figures.
"""
import dataclasses
import time

import autograd.numpy as anp
import numpy as np
from autograd import elementwise_grad, grad

from experiments.harness import cli, results, plotting
from experiments.common import verdicts

FIGURE = "fig3_manifold"
FIGURES = results.FIGURES
VIEW = {"elev": 35, "azim": -110}   # camera of both panels


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7                           # unused: the toy is deterministic
    lam_hat: float = 0.0                    # where the linear approximation is fitted
    surface: tuple = (-2.0, 2.0, 61)        # linspace of lam and of w for the plotted surfaces
    dense_lams: tuple = (-2.0, 2.0, 801)    # curves, argmins and the best-response check
    dense_ws: tuple = (-3.0, 3.0, 6001)     # w grid for argmin_w L_T (step 0.001)
    fd_step: float = 1e-5                   # central finite difference of the hypergradient


PAPER = Config()
QUICK = dataclasses.replace(PAPER, surface=(-2.0, 2.0, 31), dense_lams=(-2.0, 2.0, 201),
                            dense_ws=(-3.0, 3.0, 1201))


# ---- the toy ------------------------------------------------------------------------------------
def train_loss(w, lam):
    """L_T(w, lam), elementwise over broadcast arrays."""
    return -anp.logaddexp(-1.0, -(w - anp.sin(lam + np.pi)) ** 2) - (lam + anp.sin(2 * lam)) / 10


def valid_loss(w):
    return anp.sin(w)


def best_response(lam):
    return anp.sin(lam + np.pi)


def tangent(lam_hat):
    """(intercept, slope) of the line w = intercept + slope * (lam - lam_hat) touching w* at lam_hat."""
    return best_response(lam_hat), grad(best_response)(lam_hat)


def implicit_slope(lam_hat):
    """dw*/dlam from L_T alone: -(d2L/dw2)^-1 d2L/dw dlam at (w*(lam_hat), lam_hat)."""
    w = best_response(lam_hat)
    dL_dw = grad(train_loss, 0)
    return -grad(dL_dw, 1)(w, lam_hat) / grad(dL_dw, 0)(w, lam_hat)


# ---- Figure 3 -------------------------------------------------------------------------------------
def check_best_response(config, lams):
    """Largest |argmin over the w grid of L_T(., lam) - w*(lam)| over lams, the grid step, and the
    largest |dL_T/dw| along w*(lam)."""
    ws = np.linspace(*config.dense_ws)
    argmin = ws[np.argmin(train_loss(ws[None, :], lams[:, None]), axis=1)]
    stationarity = elementwise_grad(train_loss, 0)(best_response(lams), lams)
    return np.abs(argmin - best_response(lams)).max(), ws[1] - ws[0], np.abs(stationarity).max()


def run(config=PAPER, out=FIGURES):
    t0 = time.perf_counter()
    lams = np.linspace(*config.dense_lams)
    br_error, w_step, br_grad = check_best_response(config, lams)

    # The local linear approximation and the hypergradients at lam_hat.
    lam_hat = config.lam_hat
    intercept, slope = tangent(lam_hat)
    linear = lambda lam: intercept + slope * (lam - lam_hat)  # noqa: E731
    valid_exact = lambda lam: valid_loss(best_response(lam))  # noqa: E731
    valid_linear = lambda lam: valid_loss(linear(lam))  # noqa: E731
    h = config.fd_step
    hypergrads = {"hypergrad_best_response": grad(valid_exact)(lam_hat),
                  "hypergrad_linear": grad(valid_linear)(lam_hat),
                  "hypergrad_finite_difference": (valid_exact(lam_hat + h) - valid_exact(lam_hat - h)) / (2 * h),
                  "hypergrad_closed_form": np.cos(np.sin(lam_hat + np.pi)) * np.cos(lam_hat + np.pi)}

    # The validation loss along both, and where each is smallest (lam* and lam_phi* of the caption).
    v_exact, v_linear = valid_exact(lams), valid_linear(lams)
    i, j = np.argmin(v_exact), np.argmin(v_linear)
    metrics = {"lam_hat": lam_hat, "best_response_max_abs_error": br_error, "w_grid_step": w_step,
               "best_response_max_abs_dLdw": br_grad, "tangent_intercept": intercept, "tangent_slope": slope,
               "implicit_slope": implicit_slope(lam_hat), **hypergrads,
               "lam_star": lams[i], "valid_at_lam_star": v_exact[i], "w_at_lam_star": best_response(lams[i]),
               "lam_star_linear": lams[j], "valid_at_lam_star_linear": v_linear[j],
               "w_at_lam_star_linear": linear(lams[j]), "lam_grid_step": lams[1] - lams[0]}

    grid = np.linspace(*config.surface)
    L, W = np.meshgrid(grid, grid, indexing="ij")  # surfaces indexed [lam, w]
    arrays = {"surface_lams": L, "surface_ws": W, "surface_train": train_loss(W, L), "surface_valid": valid_loss(W),
              "lams": lams, "w_best": best_response(lams), "w_linear": linear(lams),
              "train_best": train_loss(best_response(lams), lams), "train_linear": train_loss(linear(lams), lams),
              "valid_best": v_exact, "valid_linear": v_linear}
    timings = {"total": time.perf_counter() - t0}
    name = results.config_name(config, PAPER, QUICK)
    record = results.save_results(out, FIGURE, config_name=name, config=config, metrics=metrics, timings=timings,
                                  arrays=arrays)
    m = record["metrics"]
    print(f"best response error {m['best_response_max_abs_error']:.2g} (w step {m['w_grid_step']:.2g}), "
          f"slope {m['tangent_slope']:.12g}, hypergradients {m['hypergrad_best_response']:.12g} / "
          f"{m['hypergrad_linear']:.12g}, lam* {m['lam_star']:.3f}, lam_phi* {m['lam_star_linear']:.3f}; "
          f"{timings['total']:.2f} s")
    return record


def plot(out=FIGURES):
    import matplotlib.ticker
    record, a = results.load_results(out, FIGURE)
    m = record["metrics"]
    fig, axes = plotting.figure(1, 2, figsize=(12.5, 5.6), subplot_kw={"projection": "3d", "computed_zorder": False})
    lams, lam_hat = a["lams"], m["lam_hat"]
    w_lo, w_hi = a["surface_ws"].min(), a["surface_ws"].max()
    inside = (a["w_linear"] >= w_lo) & (a["w_linear"] <= w_hi)  # the line leaves the plotted w range
    panels = [(axes[0], "surface_train", "train_best", "train_linear", "Loss $L_{Train}$", "Training loss"),
              (axes[1], "surface_valid", "valid_best", "valid_linear", "Loss $L_{Valid.}$", "Validation loss")]
    for ax, surface, best, lin, zlabel, title in panels:
        # Lines are drawn over the half-transparent surface (computed_zorder=False), so none is hidden.
        ax.plot_surface(a["surface_lams"], a["surface_ws"], a[surface], cmap="Greys", alpha=0.45, lw=0,
                        rstride=1, cstride=1, zorder=1)
        floor = a[surface].min() - 0.15 * np.ptp(a[surface])
        ax.plot(lams, a["w_best"], a[best], color="tab:blue", lw=2.5, zorder=4, label="Exact best response $w^*(λ)$")
        ax.plot(lams[inside], a["w_linear"][inside], a[lin][inside], color="tab:red", lw=2.5, zorder=5,
                label=f"Linear approximation fitted at $\\hat{{λ}}$ = {lam_hat:g}")
        ax.plot(lams, a["w_best"], np.full(len(lams), floor), color="tab:blue", lw=1.2, ls=":", zorder=2,
                label="Both, projected onto the (λ, w) plane")
        ax.plot(lams[inside], a["w_linear"][inside], np.full(inside.sum(), floor), color="tab:red", lw=1.2, ls=":",
                zorder=2)
        ax.scatter([lam_hat], [m["tangent_intercept"]], [np.interp(lam_hat, lams, a[best])], color="k", s=30,
                   zorder=6, depthshade=False,
                   label=f"$\\hat{{λ}}$: $dw^*/dλ$ = {m['tangent_slope']:.3g}; $dL_{{Valid.}}/dλ$ = "
                         f"{m['hypergrad_best_response']:.3g} along both")
        ax.set_zlim(floor, a[surface].max())
        ax.set_xticks(np.arange(np.ceil(lams[0]), lams[-1] + 1e-9))
        ax.set_yticks(np.arange(np.ceil(w_lo), w_hi + 1e-9))
        ax.zaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.set_xlabel(plotting.LAM, labelpad=4)
        ax.set_ylabel("Parameter $w$", labelpad=4)
        ax.set_zlabel(zlabel, labelpad=6)
        ax.set_title(title, fontsize=12)
        ax.view_init(**VIEW)

    # The minimisers of the validation loss along each: lam* (exact) and lam_phi* (approximate).
    # Both may share λ, but not w: each star sits on its own curve, and its label gives both coordinates.
    for key, colour, name, along in (("", "tab:blue", "λ^*, w^*(λ^*)", "the exact best response"),
                                     ("_linear", "tab:red", "λ_φ^*, w_φ(λ_φ^*)", "the linear approximation")):
        axes[1].scatter([m[f"lam_star{key}"]], [m[f"w_at_lam_star{key}"]], [m[f"valid_at_lam_star{key}"]], color=colour,
                        ec="k", s=110, marker="*", zorder=6, depthshade=False,
                        label=f"$({name})$ = ({m[f'lam_star{key}']:.2f}, {m[f'w_at_lam_star{key}']:.2f}): "
                              f"minimum of $L_{{Valid.}}$ along {along}")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=9, bbox_to_anchor=(0.5, -0.08))
    fig.suptitle(f"{record['config_name']}: exact (blue) and approximate (red) optimal weights as a function of "
                 "the hyperparameter", fontsize=11)
    return plotting.save(fig, out, FIGURE)


# ---- the paper's claim and the rule that decides it ------------------------------------------------
EXACT = 1e-6  # "gives the hypergradient": equal to the closed form to this (autograd ~1e-10, finite difference ~1e-8)


def claims(record, seeds_record=None):
    """The paper's claim of Figure 3 on `record` (<out>/fig3_manifold.json), decided against the closed
    form (nothing is random: no seeds, `seeds_record` is unused): plain data, see
    experiments/common/verdicts.py."""
    m = record["metrics"]
    grads = (m["hypergrad_best_response"], m["hypergrad_linear"], m["hypergrad_finite_difference"])
    holds = (all(abs(g - m["hypergrad_closed_form"]) <= EXACT for g in grads)
             and m["best_response_max_abs_error"] <= m["w_grid_step"] / 2 + EXACT)
    mant, exp = f"{EXACT:.0e}".split("e")
    exact = f"{mant}e{int(exp)}".replace("-", "\u2212")  # 1e−6, as the pages write it
    rule = (f"the hypergradients at λ̂ through w* and through the tangent, and their finite difference, equal the "
            f"closed form to {exact}, and w* minimises L_T to half the w grid's step")
    return [verdicts.claim("3", "a local approximation of the best response gives the hypergradient at λ̂", [holds],
                           ["closed form"], rule, unit="closed form", seeds=[], tolerance=EXACT,
                           hypergrad_best_response=m["hypergrad_best_response"], lam_hat=m["lam_hat"])]


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__)


if __name__ == "__main__":
    main()
