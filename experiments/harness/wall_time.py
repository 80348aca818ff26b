"""The wall time of figures predicted from the job times their runs recorded (<figure>.json): each
figure's jobs placed on N workers as experiments/harness/runner.py starts them, in the order the
figure submits them, a job that takes other jobs' results (Figure 5's hand-tuned grids and its
unrolled run) as soon as they are done and before the others. A job takes the time it took in the
recorded run; what a figure computes outside its jobs is added as it is. Used by bench/predict_wall.py
(the table of the full reproduction) and by run_all.sh (how long is left)."""
import heapq
import json
import re
from pathlib import Path


def jobs_of(figure, record):
    """[(name, seconds, [names it waits for], priority)] in submission order, and the seconds the
    figure spends outside its jobs."""
    t = {k: v for k, v in record["timings_s"].items() if isinstance(v, (int, float))}
    if record.get("jobs"):  # recorded by the runner: every job with its own wall time
        return [(j["label"], j["wall_s"], _after(figure, j["label"], record), _priority(j["label"]))
                for j in record["jobs"]], 0.0
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
    workers = workers or len(jobs)
    waiting, running, done, now, order = list(jobs), [], {}, 0.0, {j[0]: i for i, j in enumerate(jobs)}
    while waiting or running:
        ready = sorted((j for j in waiting if all(d in done for d in j[2])), key=lambda j: (-j[3], order[j[0]]))
        for job in ready[:workers - len(running)]:
            waiting.remove(job)
            heapq.heappush(running, (now + job[1], job[0]))
        now, name = heapq.heappop(running)
        done[name] = now
    return now


def records(folder):
    """{figure: its results record} of every <figure>.json in folder."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(Path(folder).glob("fig*_*.json"))}


def predict(folder, counts, recs=None):
    """{figure: [seconds on each N of counts, then on any N]}, from every <figure>.json in folder
    (or from `recs`, records() already read)."""
    out = {}
    for figure, record in (records(folder) if recs is None else recs).items():
        jobs, outside = jobs_of(figure, record)
        out[figure] = [outside + makespan(jobs, n) for n in counts] + [outside + makespan(jobs, None)]
    return out


def hm(s):
    """Hours and minutes, rounded to the minute as docs/fmt.secs rounds them (the pages show these numbers)."""
    m = round(s / 60)
    return f"{m // 60} h {m % 60:02d} min" if s >= 3600 else f"{s / 60:.1f} min"
