"""Shared figure style; every figure is saved as PNG and PDF, each written atomically."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .results import atomic_write  # noqa: E402

STYLE = {"font.size": 11, "axes.labelsize": 12, "axes.titlesize": 12, "legend.fontsize": 9,
         "xtick.labelsize": 10, "ytick.labelsize": 10, "axes.spines.top": False,
         "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight"}
LAM = "Hyperparameter λ"


def figure(*args, **kwargs):
    plt.rcParams.update(STYLE)
    return plt.subplots(*args, **kwargs)


def save(fig, out, name):
    """Write <out>/<name>.png and .pdf; returns their paths."""
    paths = []
    for ext in ("png", "pdf"):
        path = Path(out) / f"{name}.{ext}"
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=ext))
        paths.append(path)
    plt.close(fig)
    return paths
