"""Page of the seed sweeps: how to run a figure over seeds (locally or on a Dask cluster) and every
committed summary figures/seeds_<figure>.json, found by name, so a new sweep gets its section without
an edit here. A figure's template may define seed_verdict_rows(S) -> [(claim, on how many seeds it
holds)]: its sweep's section then shows them."""
import importlib
import math

from docs.fmt import MINUS, count, num, secs, seed_list, seeds_phrase, table

INTRO = """`python experiments/harness/seeds.py FIGURE --seeds 7 8 9 10 11 [--quick] [--jobs N]` runs a figure once per seed,
each as an independent job in its own folder (experiments/harness/runner.py: local worker processes or a Dask cluster,
one BLAS thread a job), and writes
`seeds_<figure>.json` with the mean, sd (n − 1), min, max and values of every scalar metric, and per-seed and
total times. The summary goes to `--out`, by default `figures/` for the PAPER config over seeds 7-11 (the
only sweep that may write there), `runs/paper_seeds/` for other seeds, `runs/quick_seeds/` with `--quick`,
`runs/custom_<hash>_seeds/` with `--set NAME=VALUE`; the per-seed results go to `<out>/seeds/<figure>/seed<N>/`
(the git-ignored `runs/seeds/` when `<out>` is `figures/`). A job of `fig4_local`, `fig5_many`, `fig6_gp` or
`fig7_hpo` uses 2 cores, and Figures 5, 6 and the appendix comparison train against a time budget, so they
need whole cores: `--jobs` defaults to cores ÷ cores per job and is refused when it would oversubscribe them.
A failing seed does not stop the others; it is listed in the summary and the command exits non-zero;
running the same command again skips the seeds already done (kept in `<out>/.seeds_<figure>.jobs/` until a
sweep without a failed seed has saved its summary), and a seed's figure computes only its missing jobs.

**On a Dask cluster**, start the scheduler and the workers in a checkout of the same commit on a shared file
system, and add `--scheduler ADDRESS` (and `--wait-workers SECONDS`, default 60): fifty seeds take the same
command as five, and every job of every seed's figure is a job of the cluster.

```
PYTHONPATH=. dask scheduler                                          # on one machine
PYTHONPATH=. dask worker tcp://HOST:8786 --nworkers 8 --nthreads 1   # on each of the others (8 cores)
python experiments/harness/seeds.py fig5_many --seeds $(seq 7 56) --scheduler tcp://HOST:8786
```

`--budget-fraction F` (Figure 5 only) runs every seed with every time budget × F, a labelled robustness budget
for a machine without a cluster; the summary is named so (e.g. "PAPER, budgets x 0.1") and records F.

A worker has one thread (`--nthreads 1`, checked) and a core of its own (`--nworkers` = the machine's cores);
a seed holds no worker while it waits for its figure's jobs; `--jobs` caps how many seeds are on the cluster
at once.
The docstring of `experiments/harness/seeds.py` has the details (where files go, resuming, the summary's keys)."""


def _fmt(x, scale=None):
    """A metric of any scale with about four significant digits (of `scale` if given: an sd beside
    its mean); 0 for what is 0 to rounding."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    ref = abs(scale if scale else x)
    if abs(x) <= 1e-12 * max(ref, 1e-300) or x == 0:
        return "0"
    if float(x).is_integer() and abs(x) >= 1:
        return count(x)
    if not 1e-4 <= abs(x) < 1e6:
        return f"{x:.3e}".replace("e-0", "e-").replace("-", MINUS)
    return num(x, max(0, 3 - int(math.floor(math.log10(abs(x))))))


def page(R):
    figures = [p for p in R.pages if p.figure]
    parts = [INTRO, "## The committed sweeps"]
    missing = []
    for p in figures:
        name = f"seeds_{p.name}"
        if not R.has(name):
            missing.append(p)
            continue
        parts.append(sweep(R, p, name))
    if missing:
        parts.append("## Figures without a committed sweep\n\n" + "\n".join(
            f"- [{p.title}]({p.name}.md): {why(R, p)}" for p in missing))
    return "\n\n".join(parts)


def why(R, p):
    if not R.has(p.name):
        return "no committed results yet"
    d = R(p.name)
    robust = d.get("config.robust_seeds")
    if robust:
        return (f"seed {d['config.seed']}; it has its own robustness run over {seeds_phrase(robust)} at "
                f"{num(d['config.robust_budget_s'], 0)} s (on its page)")
    if p.name == "fig3_manifold":
        return "nothing in it is random"
    return f"seed {d['config.seed']} only: one PAPER run takes {secs(d['timings_s.total'])} of both cores"


def sweep(R, p, name):
    S = R(name)
    seeds, reused, failed = S["completed"], list(S["reused"]), S["failed"].data
    ran = [s for s in seeds if s not in reused]
    frac = S.get("budget_fraction", 1)
    config = (f"the {S['config_name']} config" if frac == 1 else
              f"the PAPER config with every time budget × {frac:g} ("
              + ", ".join(f"`{k}` {_budget(v)}" for k, v in S["budgets"].data.items()) + ")")
    head = (f"### [{p.title}]({p.name}.md)\n\n`figures/{name}.json`: {config} over "
            f"{seeds_phrase(seeds)}, {count(S['timings_s.wall'])} s of wall time for {seeds_phrase(ran)} "
            f"({S['backend']}, {S['jobs']} job at a time)"
            + (f"; {seeds_phrase(reused)} reused the committed run" if reused else "")
            + (f"; failed: {', '.join(f'{k} ({v})' for k, v in failed.items())}" if failed else "") + ".")
    rows = []
    for key in S["metrics"].keys():
        st = S["metrics"].data[key]
        if st["n"] == 0:
            continue
        if st["min"] == st["max"]:
            rows.append((f"`{key}`", f"{_fmt(st['mean'])} on every seed", "", ""))
            continue
        rows.append((f"`{key}`", f"{_fmt(st['mean'])} ± {_fmt(st['sd'], st['mean'])}",
                     f"{_fmt(st['min'])} … {_fmt(st['max'])}", " / ".join(_fmt(v) for v in st["values"])))
    body = table(("metric", "mean ± sd", "min … max", "per seed " + " / ".join(str(s) for s in seeds)), rows)
    t = importlib.import_module(f"docs.templates.{p.name}")
    if hasattr(t, "seed_verdict_rows"):
        head += ("\n\nThe page's verdicts, each rule applied to every seed:\n\n"
                 + table(("verdict", "holds on seeds"), t.seed_verdict_rows(S)))
    return (f"{head}\n\n<details><summary>every scalar metric over {seed_list(seeds)} ({len(rows)})</summary>\n\n"
            f"{body}\n\n</details>")


def _budget(v):
    """A budget of the summary: '100 s', '32 / 96 / 115 s'."""
    return " / ".join(f"{x:g}" for x in v) + " s" if isinstance(v, list) else f"{v:g} s"
