"""The wall time of figures predicted from the job times their runs recorded (<figure>.json): each
figure's jobs placed on N workers as experiments/harness/runner.py starts them, in the order the
figure submits them, a job that takes other jobs' results (Figure 5's hand-tuned grids and its
unrolled run) as soon as they are done and before the others. A job takes the CPU seconds of its
thread where the run recorded them (the time it takes on a core of its own, however loaded the
machine was), else the wall seconds it took; what a figure computes outside its jobs is added as it
is. Several figures at once (run_all.sh --scheduler) share the workers: a figure's jobs are sent when
it starts, and a figure that reads another's results starts when that one is done (`together`).
Used by bench/predict_wall.py (the tables of docs/cluster.md) and by run_all.sh (how long is left)."""
import heapq
import itertools
import json
import re
from pathlib import Path

UNDER_LOAD = 1.25  # a job whose wall seconds exceed its CPU seconds by this factor shared its core


def seconds(job):
    """A recorded job's time on a core of its own: its thread's CPU seconds, else its wall seconds."""
    return job["cpu_s"] if isinstance(job.get("cpu_s"), (int, float)) else job["wall_s"]


def under_load(record):
    """[(label, wall_s, cpu_s)] of the recorded jobs whose wall time was stretched by other work on
    their core (wall > UNDER_LOAD x CPU), and whether every job recorded its CPU seconds."""
    jobs = record.get("jobs") or []
    loaded = [(j["label"], j["wall_s"], j["cpu_s"]) for j in jobs
              if isinstance(j.get("cpu_s"), (int, float)) and j["wall_s"] > UNDER_LOAD * j["cpu_s"]]
    return loaded, bool(jobs) and all(isinstance(j.get("cpu_s"), (int, float)) for j in jobs)


def jobs_of(figure, record):
    """[(name, seconds, [names it waits for], priority)] in submission order, and the seconds the
    figure spends outside its jobs."""
    t = {k: v for k, v in record["timings_s"].items() if isinstance(v, (int, float))}
    if record.get("jobs"):  # recorded by the runner: every job with its own time, and the figure's total
        jobs = [(j["label"], seconds(j), _after(figure, j["label"], record), _priority(j["label"]))
                for j in record["jobs"]]
        as_run = [(j["label"], j["wall_s"], _after(figure, j["label"], record), _priority(j["label"]))
                  for j in record["jobs"]]  # outside them: the total minus the jobs as they ran then
        workers = record.get("config", {}).get("workers") or 1
        return jobs, max(t.get("total", 0.0) - makespan(as_run, workers), 0.0)
    if figure in ("fig2_global", "fig3_manifold"):
        return [(figure, t["total"], [], 0)], 0.0
    if figure == "fig6_gp":  # the evaluation models ran on 2 threads: 2 x its wall in chunks of `chunk`
        c = record["config"]
        n = -(-c["n_eval_tuples"] // c["chunk"])
        return [(f"eval_{i}", 2 * t["build_eval"] / n, [], 0) for i in range(n)], t["total"] - t["build_eval"]
    names = [k for k in t if k not in ("total", "robust_sum") and not k.endswith("_cpu")]
    jobs = [(k, t[k], _after(figure, k, record), _priority(k)) for k in names]
    if figure == "fig5_many":  # submitted deeper hypernetworks first, then the search, then 784-10
        jobs.sort(key=lambda j: (j[0] == "hyper_784-10", not j[0].startswith("hyper_"), -len(j[0])))
    if figure == "fig7_hpo":  # submitted longest first
        jobs.sort(key=lambda j: -float(j[0].rsplit("_", 1)[1]))
    if figure == "fig8_warmstart" and "robust_sum" in t:  # the robustness jobs: their sum, split evenly
        n = len(record["config"]["robust_seeds"]) * len(names)
        jobs += [(f"robust_{i}", t["robust_sum"] / n, [], 0) for i in range(n)]
    return jobs, 0.0


def _after(figure, name, record):
    if figure != "fig5_many":
        return []
    if name.startswith("cv_"):
        return ["hyper_" + name[3:]]
    if name == "unrolled":
        return [f"unrolled_search_{i}" for i in range(len(record["config"]["unrolled"]))]
    return []


def _priority(name):
    return 1 if re.match(r"cv_|unrolled$", name) else 0


def makespan(jobs, workers):
    """Wall time of the jobs on `workers` workers (None: as many as there are jobs)."""
    return together({"": (jobs, 0.0)}, workers)[""]


def together(figures, workers, after=None, tail=None):
    """{figure: the time it is done} when the figures {name: (jobs, outside seconds)}, in the order
    they start, share `workers` workers (None: as many as there are jobs). A figure starts at 0, or
    when the figure `after[name]` is done if that one is among them; it computes its own part (the
    outside seconds), then sends its jobs, and is done `tail[name]` seconds (default 0: drawing and
    saving, which no record holds) after the last of them. A free worker takes the ready job of highest
    priority, then the one sent first."""
    after = {k: v for k, v in (after or {}).items() if k in figures and v in figures}
    tail = tail or {}
    workers = workers or max(sum(len(j) for j, _ in figures.values()), 1)
    waiting, running, left, done, ends, order = {}, [], {}, set(), {}, itertools.count()

    def start(name, t):
        jobs, outside = figures[name]
        left[name] = len(jobs)
        for label, s, deps, priority in jobs:
            waiting[(name, label)] = (s, [(name, d) for d in deps], priority, t + outside, next(order))
        if not jobs:
            finish(name, t + outside)

    def finish(name, t):
        t += tail.get(name, 0.0)
        ends[name] = t
        for later in [n for n, a in after.items() if a == name]:
            start(later, t)

    for name in figures:
        if name not in after:
            start(name, 0.0)
    now = 0.0
    while waiting or running:
        ready = sorted((k for k, (_, deps, _, sent, _) in waiting.items()
                        if sent <= now and all(d in done for d in deps)),
                       key=lambda k: (-waiting[k][2], waiting[k][3], waiting[k][4]))
        for key in ready[:workers - len(running)]:
            heapq.heappush(running, (now + waiting.pop(key)[0], key))
        later = [sent for _, _, _, sent, _ in waiting.values() if sent > now]
        if running and (not later or running[0][0] <= min(later)):
            now, key = heapq.heappop(running)
            done.add(key)
            left[key[0]] -= 1
            if not left[key[0]]:
                finish(key[0], now)
        elif later:
            now = min(later)
        else:
            raise ValueError(f"jobs that wait for jobs that do not exist: {sorted(waiting)}")
    return {name: max(ends.get(name, 0.0), figures[name][1] + tail.get(name, 0.0)) for name in figures}


def records(folder):
    """{figure: its results record} of every <figure>.json in folder; ValueError naming the file that is not
    a JSON object."""
    out = {}
    for path in sorted(Path(folder).glob("fig*_*.json")):
        try:
            out[path.stem] = json.loads(path.read_text())
            if not isinstance(out[path.stem], dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            raise ValueError(f"{path.name} is not a figure's results record ({e})") from None
    return out


def predict(folder, counts, recs=None):
    """{figure: [seconds on each N of counts, then on any N]}, from every <figure>.json in folder
    (or from `recs`, records() already read)."""
    out = {}
    for figure, record in (records(folder) if recs is None else recs).items():
        jobs, outside = jobs_of(figure, record)
        out[figure] = [outside + makespan(jobs, n) for n in counts] + [outside + makespan(jobs, None)]
    return out


def predict_together(recs, names, counts, after, start_s=None, end_s=None):
    """[seconds on each N of counts, then on any N] of the figures `names` (in run_all.sh's order) all
    at once, as run_all.sh --scheduler runs them, from their records `recs`. What no record holds may be
    added where it is measured (bench/runner_overhead.py): start_s {figure: seconds before it computes
    (its script's start-up, the connection)}, end_s {figure: seconds after its jobs (the drawing)}."""
    start_s = start_s or {}
    figures = {}
    for n in names:
        if n in recs:
            jobs, outside = jobs_of(n, recs[n])
            figures[n] = (jobs, outside + start_s.get(n, 0.0))
    return [max(together(figures, n, after, end_s).values(), default=0.0) for n in [*counts, None]]


def hm(s):
    """Hours and minutes, rounded to the minute as docs/fmt.secs rounds them (the pages show these numbers)."""
    m = round(s / 60)
    return f"{m // 60} h {m % 60:02d} min" if s >= 3600 else f"{s / 60:.1f} min"
