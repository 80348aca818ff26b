"""Every figure drawn from its QUICK results and from the committed PAPER results in figures/ is
readable (tests/legibility.py): no legend on another legend, on plotted data or on an axis's text,
legend text of at least 8 pt, log axes with at least 3 tick labels, and no labelled curve leaving
its panel after its start. The figure is drawn by its own plot() and checked before it is saved
(nothing is written)."""
import importlib

import matplotlib.legend
import matplotlib.ticker
import pytest

import legibility
from experiments.harness import plotting, results

FIGURES = ("fig2_global", "fig3_manifold", "fig4_local", "fig5_many", "fig6_gp", "fig7_hpo", "fig7_ablations",
           "fig8_warmstart", "fig9_ift", "fig10_width")
# fig7_hpo's QUICK run alone takes about 100 s on 2 cores and no other test needs it: its committed
# PAPER figure is checked here, its QUICK one by `python tests/legibility.py DIR` after `run_all.sh --quick`.
# fig9_ift's and fig10_width's QUICK figures are checked in tests/figures/test_beyond_ift_width.py, beside their runs.
QUICK = tuple(f for f in FIGURES if f not in ("fig7_hpo", "fig9_ift", "fig10_width"))


def drawn(monkeypatch, name, folder):
    """The figure `name` as plot() draws it from the results in `folder`, not saved."""
    figs = []
    monkeypatch.setattr(plotting, "save", lambda fig, out, figure: figs.append(fig) or [])
    importlib.import_module(f"experiments.{name}").plot(folder)
    assert len(figs) == 1
    return figs[0]


@pytest.mark.parametrize("name", FIGURES)
def test_committed_figure_is_readable(monkeypatch, name):
    if not (results.FIGURES / f"{name}.json").exists():
        pytest.skip(f"no committed results of {name}")
    problems = legibility.problems(drawn(monkeypatch, name, results.FIGURES))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", QUICK)
def test_quick_figure_is_readable(monkeypatch, quick_results, name):
    problems = legibility.problems(drawn(monkeypatch, name, quick_results(name)[1]))
    assert not problems, "\n".join(problems)


def test_the_checks_find_what_they_look_for():
    """A figure with each fault is reported: legends on each other and on a curve, 7 pt legend text, a
    log axis with one label, a curve that leaves the panel; the same figure laid out well is not."""
    import numpy as np
    fig, ax = plotting.figure(figsize=(5, 4))
    x = np.linspace(0.15, 3, 50)
    ax.plot(x, np.full(50, 0.5), label="flat")
    ax.plot(x, np.linspace(0, 2, 50), label="rises")
    ax.set(xscale="log", ylim=(0, 1))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # 10^0 alone
    ax.add_artist(ax.legend(loc="center", fontsize=7))
    ax.legend(handles=ax.get_lines()[:1], loc="center")
    found = " | ".join(legibility.problems(fig))
    for says in ("overlap", "covers", "7.0 pt", "1 tick label", "leaves the y-limits"):
        assert says in found, (says, found)
    fig, ax = plotting.figure(figsize=(5, 4))
    ax.plot([1, 10, 100, 1000], [0.5, 0.4, 0.3, 0.3], label="falls")
    ax.set(xscale="log", ylim=(0, 1), xlabel="x")
    plotting.legend_below(ax)
    assert legibility.problems(fig) == []


def test_legend_below_needs_axes():
    """legend_below(*axes): no axes, or an array of them not unpacked, is one line naming the fix; one axes
    gives its legend, several a list."""
    fig, axes = plotting.figure(1, 2)
    for ax in axes:
        ax.plot([1, 2], [1, 2], label="x")
    for bad in ((), (axes,)):
        with pytest.raises(TypeError, match=r"legend_below needs one or more matplotlib Axes, e\.g\. legend_below\(\*axes\)"):
            plotting.legend_below(*bad)
    assert isinstance(plotting.legend_below(axes[0]), matplotlib.legend.Legend)
    assert [type(x).__name__ for x in plotting.legend_below(*axes)] == ["Legend", "Legend"]
