"""Render docs/*.md and the generated blocks of README.md from the results files in figures/.

    python docs/render.py                 rewrite docs/ and README.md's generated blocks
    python docs/render.py --out DIR       write the pages and a README.md into DIR instead
    python docs/render.py --check         exit 1 if docs/ or README.md differ from what figures/ says
    python docs/render.py --results DIR   read the results from DIR instead of figures/

Every number on a page is read from a results file by the page's template (docs/templates/<page>.py)
and formatted there; the templates hold only the prose that does not change with a run (settings,
rationale, the paper's published numbers). A page is one template plus one entry in PAGES; a
template may define
    page(R) -> str                  the page's Markdown below its title (required)
    claims(R) -> [fmt.Claim]        the paper's claims, decided by experiments/<page>.py's claims():
                                    rows of README's "what reproduces"
    paper_seconds(R) -> float       the PAPER run's time (figure pages; default timings_s.total)
tests/figures/test_docs.py fails when the committed pages or README blocks differ from a fresh rendering.

What cannot be rendered ends in one line and exit status 2, before any file is written: a results file
missing, unreadable (not UTF-8, not JSON, a folder) or holding a string, null, true/false, array or object
where a page needs a number (the file and the key named); in figures/, or for the committed docs/, a result other than the
PAPER run with its default seed (experiments/harness/results.py's rule for figures/); an --out or
--results that cannot serve.
"""
import argparse
import dataclasses
import errno
import importlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docs import fmt  # noqa: E402

DOCS = ROOT / "docs"
FIGURES = ROOT / "figures"
README = ROOT / "README.md"


@dataclasses.dataclass(frozen=True)
class Page:
    name: str            # docs/<name>.md, rendered by docs/templates/<name>.py
    title: str
    figure: bool = False  # a figure of the paper: experiments/<name>.py makes figures/<name>.png
    beyond: bool = False  # an experiment beyond the paper: README links its page, without the picture


PAGES = (
    Page("fig2_global", "Figure 2: global best-response (Algorithm 2)", figure=True),
    Page("fig3_manifold", "Figure 3: the loss manifold", figure=True),
    Page("fig4_local", "Figure 4: local best-response (Algorithms 3 and 4)", figure=True),
    Page("fig5_many", "Figure 5: thousands of hyperparameters", figure=True),
    Page("fig6_gp", "Figure 6: learning weights vs learning the loss", figure=True),
    Page("fig7_hpo", "Appendix: against random search, Bayesian optimisation and TPE", figure=True),
    Page("fig7_ablations", "Appendix, ablations: why hyper-training on 10 hyperparameters ends above the black-box methods",
         figure=True),
    Page("fig8_warmstart", "Beyond the paper: a hypernetwork that initialises an unrolled optimisation", figure=True,
         beyond=True),
    Page("fig9_ift", "Beyond the paper: hyper-training, unrolling and the IFT hypergradient at equal compute",
         figure=True, beyond=True),
    Page("fig10_width", "Beyond the paper: a learned width of p(λ | λ̂)", figure=True, beyond=True),
    Page("seeds", "Seeds: every figure over several seeds"),
    Page("tests", "Tests: what is checked, which faults are tried"),
    Page("bench", "The cost of a hyper-training step"),
    Page("cluster", "On a Dask cluster: how to, how many workers, the overhead"),
    Page("settings", "Paper says / original code did / this repository does"),
)


def template(page):
    return importlib.import_module(f"docs.templates.{page.name}")


def paper_seconds(page, R):
    t = template(page)
    return t.paper_seconds(R) if hasattr(t, "paper_seconds") else R(page.name)["timings_s.total"]


def machine(R, name):
    v = R(name)["versions"]
    return f"Python {v['python']} on {v['machine']}"


def has_results(page, R):
    """Does the page have its results? (A figure page's may not be committed yet.)"""
    return not page.figure or R.has(page.name)


NOT_RUN = ("No results of this experiment are committed yet. `python experiments/{0}.py` makes them (the PAPER "
           "config, into `figures/`); then `python docs/render.py` renders this page from them.")


def figure_head(page, R):
    """Command, verdicts and the figure, the same way on every figure page."""
    name, t = page.name, template(page)
    if not has_results(page, R):
        return f"**Command:** `python experiments/{name}.py` · `--quick` (the small config, into `runs/quick/`)\n\n"
    lines = [f"**Command:** `python experiments/{name}.py` ({R(name)['config_name']} config, seed {R(name)['config.seed']}: "
             f"{fmt.secs(paper_seconds(page, R))}, {machine(R, name)}) · `--quick` (the small config, "
             f"into `runs/quick/`) · `--plot-only` (redraw from the saved results)", ""]
    if hasattr(t, "claims"):
        lines += ["**Verdicts**", "", fmt.verdict_table(t.claims(R)), ""]
    lines += [f"![{page.title}](../figures/{name}.png)", "", ""]
    return "\n".join(lines)


def render_page(page, R):
    R.used.clear()
    head = figure_head(page, R) if page.figure else ""
    body = (template(page).page(R) if has_results(page, R) else NOT_RUN.format(page.name)).strip() + "\n"
    sources = ", ".join(f"`{u}`" for u in R.used) or "no results file"
    note = (f"<!-- Generated by docs/render.py from {sources}; edit docs/templates/{page.name}.py, "
            "not this file. -->")
    return f"# {page.title}\n\n{note}\n\n{head}{body}"


def render_index(R):
    rows = [(f"[{p.title}]({p.name}.md)", f"`experiments/{p.name}.py`" if p.figure else "") for p in PAGES]
    return ("# Pages\n\n<!-- Generated by docs/render.py; edit its PAGES, not this file. -->\n\n"
            "Every number on these pages is read from a results file in `figures/` by `docs/render.py`; "
            "`tests/figures/test_docs.py` fails when a page differs from what the results files say.\n\n"
            + fmt.table(("page", "script"), rows) + "\n")


# ---- README.md's generated blocks -------------------------------------------------------------------
BEGIN, END = "<!-- generated by docs/render.py: {} -->", "<!-- end of generated block: {} -->"
PAPER_FIGURES = ("fig2", "fig3", "fig4", "fig5", "fig6")  # the paper's own figures (not the appendix, not beyond)


def readme_blocks(R):
    """{block name: Markdown} for the README's generated blocks."""
    figs = [p for p in PAGES if p.figure]
    done = [p for p in figs if has_results(p, R)]
    total = sum(paper_seconds(p, R) for p in done)
    first = done[0].name
    missing = [f"`{p.name}`" for p in figs if p not in done]
    paper_figs = [p for p in done if p.name.split("_")[0] in PAPER_FIGURES]
    from experiments.harness.run_all import PAPER_SCOPE  # what run_all.sh runs without --all
    scope = sum(paper_seconds(p, R) for p in done if p.name in PAPER_SCOPE)
    repro = (f"```\nbash run_all.sh        # the paper: Figures 2-6 and the appendix, into figures/ (about "
             f"{fmt.secs(scope)})\nbash run_all.sh --all  # and the ablations and beyond the paper (about "
             f"{fmt.secs(total)})\n```\n"
             + (f"(Without {', '.join(missing)}: no committed results yet.) " if missing else "")
             + f"Recorded times (`figures/*.json`; Figures 2-6 alone: "
             f"{fmt.secs(sum(paper_seconds(p, R) for p in paper_figs))}) on {machine(R, first)}. Both replace the "
             "committed `figures/` (`git checkout figures/` restores them).")
    rows = [(p.name, c) for p in PAGES if hasattr(template(p), "claims") and has_results(p, R)
            for c in template(p).claims(R)[:getattr(template(p), "README_CLAIMS", None)]]
    claims = fmt.claims_table(rows, lambda name: f"docs/{name}.md")
    shown = [f"**[{p.title}](docs/{p.name}.md)** · `python experiments/{p.name}.py` "
             + (f"({fmt.secs(paper_seconds(p, R))})\n\n![{p.title}](figures/{p.name}.png)" if p in done
                else "(no committed results yet)") for p in figs if not p.beyond]
    shown.append("**Beyond the paper** (each page has its figure): " + " · ".join(
        f"[{p.title.removeprefix('Beyond the paper: ')}](docs/{p.name}.md)"
        + (f" ({fmt.secs(paper_seconds(p, R))})" if p in done else " (no committed results yet)")
        for p in figs if p.beyond))
    extra = {p.name: template(p).readme_block(R) for p in PAGES if hasattr(template(p), "readme_block")}
    return {"reproduction": repro, "claims": claims, "figures": "\n\n".join(shown), **extra}


def fill_readme(text, blocks):
    """README text with each generated block replaced; a missing marker is an error."""
    for name, body in blocks.items():
        begin, end = BEGIN.format(name), END.format(name)
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            raise fmt.RenderError(f"README.md: markers of the generated block {name!r} missing ({begin} ... {end})")
        text = text[:i + len(begin)] + "\n" + body.strip() + "\n" + text[j:]
    return text


# ---- writing and checking ----------------------------------------------------------------------------
def render_all(results=FIGURES, paper_only=None):
    """{file name: text} of every page, the index, and README.md with its blocks filled. paper_only:
    refuse results of a figure other than its PAPER run with the default seed (default: when
    `results` is the committed figures/)."""
    R = fmt.Results(results, PAGES, paper_only)
    out = {f"{p.name}.md": checked(R, f"docs/{p.name}.md", lambda R, p=p: render_page(p, R)) for p in PAGES}
    out["index.md"] = render_index(R)
    out["README.md"] = fill_readme(README.read_text(), checked(R, "README.md", readme_blocks))
    return out


def checked(R, what, unit):
    """unit(R); a string, null, true/false, array or object in a results file where `what` needs a number
    (a TypeError, ValueError or AttributeError it causes) becomes a RenderError naming the file and the key."""
    start = R.reads.steps, len(R.reads.odd)
    try:
        return unit(R)
    except (TypeError, ValueError, AttributeError) as e:
        found = R.wrong_value(unit, e, start)
        if found is None:  # not a value of a results file: a fault of the template, with its traceback
            raise
        file, key, value = found
        raise fmt.RenderError(f"{file}: {key!r} is {fmt.describe(value)} where "
                              f"{what} needs a number; {R.remedy(Path(file).stem)}") from None


def check_out(out):
    """The reason `out` cannot take the pages (one line), or None: a folder, or one that can be made,
    that can be written (a folder is made and removed to try)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        return f"--out {out}: is a file, not a folder; choose a folder (it is left as it is)"
    there = next((d for d in (out, *out.absolute().parents) if d.exists()), None)
    try:
        if there is None or not there.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        os.rmdir(tempfile.mkdtemp(dir=there, prefix=".render-probe-"))
    except OSError as e:
        return f"--out {out}: cannot write there ({there}: {e.strerror or e}); choose a writable folder"
    for name in ("index.md", *(f"{p.name}.md" for p in PAGES), "README.md"):
        if (out / name).is_dir() and not (name == "README.md" and out.resolve() == DOCS.resolve()):
            return f"--out {out}: {out / name} is a folder, where a page goes; move it away or choose another folder"
    return None


def write(files, out):
    """Pages into `out`; README.md into the repository when out is docs/, else into `out` too."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = README if name == "README.md" and out.resolve() == DOCS.resolve() else out / name
        path.write_text(text)


def first_difference(name, want, have):
    """One line naming the file and the first line that differs."""
    a, b = want.splitlines(), have.splitlines()
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            c = next((i for i, (u, v) in enumerate(zip(x, y)) if u != v), min(len(x), len(y)))
            cut = lambda t: ("…" if c > 40 else "") + t[max(0, c - 40):c + 40] + (  # noqa: E731
                "…" if len(t) > c + 40 else "")
            return f"{name}, line {k + 1}, column {c + 1}: rendered now {cut(x)!r}, committed {cut(y)!r}"
    k = min(len(a), len(b))
    return (f"{name}, line {k + 1}: rendered now {a[k]!r}, the committed file ends" if len(a) > k else
            f"{name}, line {k + 1}: committed {b[k]!r}, the rendering ends")


def blocks_of(text):
    """{name: body} of the generated blocks in a README text."""
    out, prefix, i = {}, BEGIN.split("{}")[0], text.find(BEGIN.split("{}")[0])
    while i >= 0:
        name = text[i + len(prefix):].split(" -->", 1)[0]
        j = text.find(END.format(name), i)
        out[name] = text[i:j] if j >= 0 else text[i:]
        i = text.find(prefix, i + 1)
    return out


def compare(out, docs=DOCS, readme=README):
    """Messages for every page in `docs` or README block that differs from the rendering in `out`."""
    out, docs, problems = Path(out), Path(docs), []
    for path in sorted(out.glob("*.md")):
        if path.name == "README.md":
            have = blocks_of(Path(readme).read_text())
            for name, want in blocks_of(path.read_text()).items():
                if have.get(name) != want:
                    problems.append(first_difference(f"README.md (generated block {name!r})", want, have.get(name, ""))
                                    if name in have else f"README.md: the generated block {name!r} is missing")
            continue
        committed = docs / path.name
        if not committed.exists():
            problems.append(f"docs/{path.name}: missing (run `python docs/render.py`)")
        elif committed.read_text() != path.read_text():
            problems.append(first_difference(f"docs/{path.name}", path.read_text(), committed.read_text()))
    rendered = {p.name for p in out.glob("*.md")}
    problems += [f"docs/{p.name}: not a page of docs/render.py (remove it or add it to PAGES)"
                 for p in sorted(docs.glob("*.md")) if p.name not in rendered]
    return problems


def drift(results=FIGURES, docs=DOCS, readme=README):
    """Render from `results` into a temporary folder and compare with the committed pages and README."""
    with tempfile.TemporaryDirectory() as tmp:
        write(render_all(results), tmp)
        return compare(tmp, docs, readme)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DOCS, help="folder of the pages (default docs/)")
    p.add_argument("--results", type=Path, default=FIGURES, help="folder of the results files (default figures/)")
    p.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = p.parse_args(argv)
    committed = not args.check and args.out.resolve() == DOCS.resolve()  # the pages of the repository
    try:
        if not args.results.is_dir():
            raise fmt.RenderError(f"--results {args.results}: " + ("is a file, not a folder" if args.results.exists()
                                  else "no such folder") + "; give the folder of the results files")
        if not args.check and (problem := check_out(args.out)):
            raise fmt.RenderError(problem)
        if args.check:
            problems = drift(args.results)
            for line in problems:
                print(line)
            if problems:
                print("render.py: the pages differ from the results files; run `python docs/render.py`")
            return 1 if problems else 0
        files = render_all(args.results, paper_only=True if committed else None)
    except fmt.RenderError as e:
        print(f"render.py: {e}", file=sys.stderr)
        return 2
    write(files, args.out)
    print(f"render.py: {len(files)} files written ({args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
