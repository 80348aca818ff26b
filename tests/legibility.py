"""What makes a figure readable, checked on a drawn matplotlib Figure through matplotlib's own API:
`problems(fig)` lists, in words, every legend that overlaps another legend or hides plotted data
or an axis's text,
every legend with text under 8 pt, every log axis with fewer than 3 tick labels, and every labelled
curve that leaves its panel's y-limits after its first quarter (a curve may enter from above: a
start far above the plateau the panel is about)."""
import numpy as np
from matplotlib.axis import XAxis
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from experiments.harness.plotting import LEAVES_TOP

MIN_LEGEND_PT = 8
MIN_LOG_LABELS = 3
STEP_PX = 2.0  # a curve is sampled this often along its segments (a legend can hide a line between points)


def legends(fig):
    """Every legend drawn: the axes' own, those added with add_artist, and the figure's."""
    found = list(fig.legends)
    for ax in fig.axes:
        found += [a for a in ax.get_children() if isinstance(a, Legend)]
    return [lg for lg in dict.fromkeys(found) if lg.get_visible()]


def _name(ax):
    return repr(ax.get_title() or ax.get_ylabel() or f"axes {ax.get_figure().axes.index(ax)}")


def _is_3d(ax):
    return ax.name == "3d"


def _segments_px(xy):
    """Display points along a polyline (xy in display coordinates), at most STEP_PX apart."""
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if len(xy) < 2:
        return xy
    out = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:]):
        n = int(min(np.hypot(*(b - a)) // STEP_PX, 2000)) + 1
        out.append(a + (b - a) * np.linspace(0, 1, n + 1)[1:, None])
    return np.concatenate(out)


def data_points_px(ax):
    """(label, display points) of what the axes draws: lines (sampled along their segments), scatter
    and errorbar points and bars; only the part inside the axes (the rest is clipped away)."""
    box = ax.get_window_extent()
    out = []
    for line in ax.get_lines():
        if line.get_visible() and len(line.get_xydata()):
            pts = line.get_transform().transform(np.asarray(line.get_xydata(), float))
            out.append((line.get_label(), pts if line.get_linestyle() in ("None", "", " ") else _segments_px(pts)))
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, LineCollection):
            pts = [_segments_px(coll.get_transform().transform(np.asarray(s, float))) for s in coll.get_segments()]
            out.append((coll.get_label(), np.concatenate(pts) if pts else np.empty((0, 2))))
        elif isinstance(coll, PathCollection) and len(coll.get_offsets()):
            out.append((coll.get_label(), coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), float))))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_height() != 0:
            e = patch.get_window_extent()
            out.append((patch.get_label(), np.array([[e.x0, e.y0], [e.x1, e.y1], [(e.x0 + e.x1) / 2, e.y1]])))
    inside = []
    for label, pts in out:
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        keep = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
        inside.append((label, pts[keep]))
    return inside


def _bar_hidden(ax, box):
    """Bars of the axes whose rectangle intersects box (a legend over a bar hides it)."""
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_visible() and p.get_height() != 0
            and p.get_window_extent().overlaps(box)]


def legend_problems(fig):
    found = []
    boxes = [(lg, lg.get_window_extent()) for lg in legends(fig)]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if ba.overlaps(bb):
                w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
                h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
                if w > 1 and h > 1:  # touching edges is not covering
                    found.append(f"legends {_texts(a)} and {_texts(b)} overlap ({w:.0f} x {h:.0f} px)")
    for lg, box in boxes:
        small = sorted({t.get_fontsize() for t in lg.get_texts() if t.get_fontsize() < MIN_LEGEND_PT})
        if small:
            found.append(f"legend {_texts(lg)}: text of {small[0]:.1f} pt (at least {MIN_LEGEND_PT})")
        for ax in fig.axes:
            if _is_3d(ax) or not ax.get_window_extent().overlaps(box):
                continue
            for label, pts in data_points_px(ax):
                hit = (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
                if hit.any():
                    found.append(f"legend {_texts(lg)} covers {int(hit.sum())} point(s) of {label!r} in {_name(ax)}")
            if _bar_hidden(ax, box):
                found.append(f"legend {_texts(lg)} covers bars in {_name(ax)}")
        for text in _axis_texts(fig):
            e = text.get_window_extent()
            if e.width > 0 and min(box.x1, e.x1) - max(box.x0, e.x0) > 1 and min(box.y1, e.y1) - max(box.y0, e.y0) > 1:
                found.append(f"legend {_texts(lg)} covers the text {text.get_text()!r}")
    return found


def _axis_texts(fig):
    """Titles, axis labels and tick labels of every 2-D axes, and the figure's title."""
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        if _is_3d(ax):
            continue
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            texts += [t.label1 for t in axis._update_ticks()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def _texts(lg):
    t = [x.get_text() for x in lg.get_texts()]
    return repr(t[0] + (" ..." if len(t) > 1 else "")) if t else "(empty)"


def tick_problems(fig):
    found = []
    for ax in fig.axes:
        if _is_3d(ax):
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log" or not axis.get_visible():
                continue
            lo, hi = sorted(axis.get_view_interval())
            labels = [t.label1.get_text() for t in axis._update_ticks()  # the ticks drawn, minor ones too
                      if t.label1.get_visible() and t.label1.get_text().strip() and lo <= t.get_loc() <= hi]
            if len(labels) < MIN_LOG_LABELS:
                found.append(f"{'x' if isinstance(axis, XAxis) else 'y'} axis of {_name(ax)}: log scale with "
                             f"{len(labels)} tick label(s) {labels} (at least {MIN_LOG_LABELS})")
    return found


def curve_problems(fig, start=0.25):
    """Labelled curves (a label not starting with '_') must stay within the y-limits after the first
    `start` of their points inside the x-limits."""
    found = []
    for ax in fig.axes:
        if _is_3d(ax):
            continue
        lo, hi = sorted(ax.get_ylim())
        x0, x1 = sorted(ax.get_xlim())
        for line in ax.get_lines():
            if line.get_label().startswith("_") or not line.get_visible() or line.get_transform() != ax.transData:
                continue
            if line.get_gid() == LEAVES_TOP and ax.texts:  # leaves the top on purpose, and a note says where to
                continue
            x, y = (np.asarray(v, float) for v in line.get_data())
            keep = np.isfinite(x) & np.isfinite(y) & (x >= x0) & (x <= x1)
            y = y[keep]
            if len(y) < 2:
                continue
            rest = y[int(np.ceil(start * len(y))):]
            out = (rest < lo) | (rest > hi)
            if out.any():
                found.append(f"curve {line.get_label()!r} in {_name(ax)} leaves the y-limits ({lo:.4g}, {hi:.4g}) at "
                             f"{int(out.sum())} of its last {len(rest)} points (up to {rest[out].max():.4g}, down to "
                             f"{rest[out].min():.4g})")
    return found


def problems(fig):
    """Every legibility problem of the figure, in words; [] if none."""
    fig.canvas.draw()
    return legend_problems(fig) + tick_problems(fig) + curve_problems(fig)


def main(argv=None):
    """python tests/legibility.py DIR [FIGURE ...]: check the figures whose results are in DIR (e.g. after
    `bash run_all.sh --quick --out DIR`), drawn but not saved; exit 1 if any is hard to read."""
    import importlib
    import sys
    from pathlib import Path

    from experiments.harness import plotting
    args = sys.argv[1:] if argv is None else argv
    folder, names = Path(args[0]), args[1:] or sorted(p.stem for p in Path(args[0]).glob("fig*.json"))
    figs, bad = [], 0
    plotting.save = lambda fig, out, name: figs.append(fig) or []
    for name in names:
        importlib.import_module(f"experiments.{name}").plot(folder)
        found = problems(figs.pop())
        bad += bool(found)
        print(f"{name}: " + ("readable" if not found else "\n  ".join([f"{len(found)} problem(s):", *found])))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
