"""Shared figure style; every figure is saved as PNG and PDF, each written atomically, with the
run id of the results it shows in its metadata and no date, so the same results give the same bytes."""
from pathlib import Path

import numpy as np

from . import results
from .results import atomic_write

STYLE = {"font.size": 11, "axes.labelsize": 12, "axes.titlesize": 12, "legend.fontsize": 9,
         "xtick.labelsize": 10, "ytick.labelsize": 10, "axes.spines.top": False,
         "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight"}
LAM = "Hyperparameter λ"
# The gid of a curve that leaves the top of its panel on purpose, with a note in the panel saying where it goes
# (tests/legibility.py accepts such a curve only beside that note).
LEAVES_TOP = "leaves the top, annotated"


def pyplot():
    """matplotlib.pyplot on the Agg backend. Imported when a figure is drawn, not when a script is
    imported (it takes about half a second: every --check, job worker and run_all.sh's check pass would pay it)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def figure(*args, **kwargs):
    plt = pyplot()
    plt.rcParams.update(STYLE)
    return plt.subplots(*args, **kwargs)


def legend_below(*axes, gap_pt=4, **kwargs):
    """A legend under each of the axes, below its tick labels and x label (so it hides no curve and no
    text): anchored that many points under the axes, which a layout engine keeps when it moves the axes.
    Returns the legend (a list of them for several axes). The figure is laid out once for all of them."""
    from matplotlib.transforms import ScaledTranslation
    if not axes or not all(hasattr(ax, "get_window_extent") and hasattr(ax, "legend") for ax in axes):
        raise TypeError(f"legend_below needs one or more matplotlib Axes, e.g. legend_below(*axes) for an array of "
                        f"them; got {tuple(type(ax).__name__ for ax in axes)}")
    fig = axes[0].get_figure()
    fig.draw_without_rendering()  # the text's extents (and the layout's positions) as they will be drawn
    below_pt = [(ax.get_window_extent().y0 - ax.get_tightbbox().y0) * 72 / fig.dpi for ax in axes]
    kwargs = {"frameon": False, **kwargs}
    legends = [ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), **kwargs, bbox_transform=ax.transAxes
                         + ScaledTranslation(0, -(pt + gap_pt) / 72, fig.dpi_scale_trans)) for ax, pt in zip(axes, below_pt)]
    return legends[0] if len(axes) == 1 else legends


def log_ticks(axis, minimum=3):
    """Label a log axis with plain numbers at 1, 2 and 5 times the powers of ten when the range holds fewer than
    `minimum` powers (a short run's axis would show a single "10^0")."""
    import matplotlib.ticker
    lo, hi = sorted(axis.get_view_interval())
    subs = (1.0,) if np.floor(np.log10(hi)) - np.ceil(np.log10(lo)) + 1 >= minimum else (1.0, 2.0, 5.0)
    axis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def metadata(ext, name, run_id):
    """PNG text chunks / PDF info: the figure and its run id; no CreationDate (it would change the
    PDF's bytes at every --plot-only and show committed figures as modified)."""
    run = f"{name}, results of run {run_id}" if run_id else name  # None: saved before run ids existed
    return {"Title": name, "Description": run} if ext == "png" else {"Title": name, "Subject": run, "CreationDate": None}


def save(fig, out, name):
    """Write <out>/<name>.png and .pdf; returns their paths. The run id is read from <out>/<name>.json.
    In the committed figures/ only the figure's command line draws (results.check_drawing: a PAPER run
    with the default seed, or --plot-only), and only the figure of a PAPER result with the default seed."""
    plt = pyplot()
    record = results.stored_record(out, name)
    try:
        results.check_committed(out, name, config_name=record.get("config_name", f"unknown (no readable {name}.json)"),
                                seed=record.get("config", {}).get("seed"))
        results.check_drawing(out, name)
    except results.CommittedError:
        plt.close(fig)
        raise
    paths, run_id = [], record.get("run_id")
    for ext in ("png", "pdf"):
        path = Path(out) / f"{name}.{ext}"
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=ext, metadata=metadata(ext, name, run_id)))
        paths.append(path)
    plt.close(fig)
    return paths

