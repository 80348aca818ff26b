"""Shared figure style; every figure is saved as PNG and PDF, each written atomically, with the
run id of the results it shows in its metadata and no date, so the same results give the same bytes."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import results  # noqa: E402
from .results import atomic_write  # noqa: E402

STYLE = {"font.size": 11, "axes.labelsize": 12, "axes.titlesize": 12, "legend.fontsize": 9,
         "xtick.labelsize": 10, "ytick.labelsize": 10, "axes.spines.top": False,
         "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight"}
LAM = "Hyperparameter λ"


def figure(*args, **kwargs):
    plt.rcParams.update(STYLE)
    return plt.subplots(*args, **kwargs)


def metadata(ext, name, run_id):
    """PNG text chunks / PDF info: the figure and its run id; no CreationDate (it would change the
    PDF's bytes at every --plot-only and show committed figures as modified)."""
    run = f"{name}, results of run {run_id}" if run_id else name  # None: saved before run ids existed
    return {"Title": name, "Description": run} if ext == "png" else {"Title": name, "Subject": run, "CreationDate": None}


def save(fig, out, name):
    """Write <out>/<name>.png and .pdf; returns their paths. The run id is read from <out>/<name>.json,
    and in the committed figures/ only the figure of a PAPER result with the default seed is drawn."""
    record = results.stored_record(out, name)
    try:
        results.check_committed(out, name, config_name=record.get("config_name", f"unknown (no readable {name}.json)"),
                                seed=record.get("config", {}).get("seed"))
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

