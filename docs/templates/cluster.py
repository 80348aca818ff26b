"""Page: running the reproduction on a Dask cluster. The jobs of each figure and the predicted wall
time on N workers come from the recorded job times in figures/*.json (bench/predict_wall.py); the
measured overhead of a cluster against local processes from figures/bench_runner_overhead.json
(bench/runner_overhead.py)."""
import statistics

from bench import predict_wall
from docs.fmt import num, pct, secs, table
from experiments.harness import runner

NAME = "bench_runner_overhead"
COUNTS = (1, 2, 8, 32)

HOWTO = f"""Every figure script, `run_all.sh` and `experiments/harness/seeds.py` take `--scheduler ADDRESS`: the figure's
independent runs (its jobs, `experiments/harness/runner.py`) then go to that Dask cluster instead of worker processes of
this machine. Jobs that need others' results (Figure 5's hand-tuned grids after their hypernetwork, its
unrolled run after the search) are sent once those are done. Time-budgeted runs count the worker's own CPU
seconds and record its host and CPU model.

1. On every machine, a checkout of the same commit, installed as the README says (`pip install -r
   requirements.txt`; it installs this checkout, so the workers import `hypernet` and `experiments`), with
   `data/` in it. The results folder (`--out`, default `figures/` or `runs/`) must be the same path on every
   machine when sweeping seeds (a shared file system): each seed writes its own folder.
2. One scheduler, listening on a private address only: `dask scheduler --host IP` (it prints its address,
   `tcp://IP:8786`). Dask sends pickled functions to its workers and runs them: anyone who can reach an open
   scheduler runs code on every worker, with the workers' rights. Never bind it to a public interface
   (`dask scheduler` alone listens on all of them); keep it behind a firewall, or use TLS (below).
3. Workers, bound to their own private address, one process per core and one thread each:
   `dask worker tcp://IP:8786 --host IP2 --nworkers CORES --nthreads 1`. A worker with more threads is
   refused (two jobs in one process would share its CPU clock).
4. `bash run_all.sh --scheduler tcp://IP:8786` (or one script with the same option). The command waits up
   to `--wait-workers` seconds (default {runner.WAIT_S:g}) for the first worker, and checks that the
   scheduler and workers run the same code before sending any job; a mismatch or no worker ends in one line.
   A worker that joins later is checked by each job before it runs: a job that meets a worker of other code
   or more threads runs nothing there, and the run ends in one line naming that worker. Each job records in
   the results (`jobs`) the worker and the code id that computed it.

With TLS, only holders of a certificate the cluster trusts can connect (a CA and certificates of your own;
`ca.pem` signs `cert.pem` and its key `key.pem` here):

```
dask scheduler --host IP --protocol tls --tls-ca-file ca.pem --tls-cert cert.pem --tls-key key.pem
dask worker tls://IP:8786 --host IP2 --nworkers CORES --nthreads 1 --tls-ca-file ca.pem --tls-cert cert.pem --tls-key key.pem
export DASK_DISTRIBUTED__COMM__TLS__CA_FILE=ca.pem DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=cert.pem \
       DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=key.pem DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True
bash run_all.sh --scheduler tls://IP:8786
```

The command takes its certificates from Dask's own configuration (`distributed.comm.tls.ca-file`,
`.client.cert`, `.client.key` in `~/.config/dask/*.yaml`, or the variables above); a `tls://` address
without them ends in one line naming what to set (`tests/harness/test_cluster.py` runs a QUICK figure over
TLS with a self-signed certificate on 127.0.0.1).

Finished jobs are kept in the results folder (`.<figure>.jobs/`, keyed by settings and commit) until the
figure is saved: a run killed mid-way and started again recomputes only what is missing."""


def predicted(R, counts):
    """{figure: [seconds on each N of counts, then on any N]} from the committed job times, and the same
    for the paper's scope and --all run at once."""
    pred = predict_wall.predict(R.folder, counts)
    recs = {name: R(name).data for name in pred}  # the page reads these files
    scopes = {scope: predict_wall.predict_together(recs, names, counts, predict_wall.AFTER)
              for scope, names in (("paper", predict_wall.PAPER_SCOPE), ("all", predict_wall.FIGURES))}
    return pred, scopes


def local_note(pred, scopes, n=2):
    """Why run_all.sh without --scheduler runs the figures one after another: on n cores, at once would save
    little (the figures' own jobs keep the cores busy)."""
    i = COUNTS.index(n)
    one_by_one = sum(pred[name][i] for name in predict_wall.PAPER_SCOPE if name in pred)
    return (f"Without `--scheduler`, `run_all.sh` runs the figures one after another, each on all of this machine's "
            f"cores. On {n} cores that is predicted at {secs(one_by_one)} for the paper's figures, against "
            f"{secs(scopes['paper'][i])} all at once ({pct(1 - scopes['paper'][i] / one_by_one, 1)} less): each "
            "figure's own jobs keep the cores busy, so the figures overlap only in their last jobs. Running them "
            "at once pays on a cluster, where the workers outnumber a figure's jobs.")


def readme_block(R):
    """The README's lines: the predicted wall time on N workers and the measured overhead."""
    pred, scopes = predicted(R, list(COUNTS))
    two, many = COUNTS.index(2), COUNTS.index(32)
    text = (f"Predicted, all figures at once (`--scheduler`): the paper's in {secs(scopes['paper'][two])} on 2 and "
            f"{secs(scopes['paper'][many])} on 32 workers (longest chain {secs(scopes['paper'][-1])}), `--all` in {secs(scopes['all'][two])} "
            f"and {secs(scopes['all'][many])}.")
    if R.has(NAME):
        b = R(NAME)
        text += (f" Measured, `run_all.sh --quick`: {secs(statistics.median(b['local_s']))} locally, "
                 f"{secs(statistics.median(b['scheduler_s']))} on a LocalCluster of {b['workers']} workers "
                 f"({pct(b['ratio'] - 1, 1, sign=True)}; medians of {len(b['local_s'])} runs each, back to back)"
                 + (f", predicted {secs(b['predicted_scheduler_s'])} on the cluster." if "predicted_scheduler_s" in b
                    else "."))
    return text


def page(R):
    counts = list(COUNTS)
    pred, scopes = predicted(R, counts)
    jobs = {name: len(predict_wall.jobs_of(name, R(name).data)[0]) for name in pred}
    rows = [(f"`{name}`", str(jobs[name]), *(secs(s) for s in row)) for name, row in pred.items()]
    for scope, names, label in (("paper", predict_wall.PAPER_SCOPE, "**the paper's figures, at once**"),
                                ("all", predict_wall.FIGURES, "**every figure (`--all`), at once**")):
        rows.append((label, str(sum(jobs.get(n, 0) for n in names)), *(f"**{secs(s)}**" for s in scopes[scope])))
    notes = predict_wall.load_notes({name: R(name).data for name in pred})
    parts = [HOWTO, "## How many workers, and the wall time",
             "Predicted from the job times of the committed PAPER runs (`python bench/predict_wall.py --workers "
             f"{' '.join(map(str, counts))}`), placing the jobs on N workers in the order each figure sends them: "
             "each figure alone, then the figures of `run_all.sh` all at once, as `--scheduler` sends them (a "
             "figure that reads another's results starts when that one is done: "
             + ", ".join(f"`{a}` after `{b}`" for a, b in predict_wall.AFTER.items()) + "). A job takes the "
             "CPU seconds of its thread where the run recorded them, else its wall seconds. \"any N\" is the "
             "longest chain of jobs, below which no number of workers can go.",
             table(("figure", "jobs", *(f"N = {n}" for n in counts), "any N"), rows),
             "Which of these times may include other work on the machine:\n\n" + "\n".join(f"- {n}" for n in notes),
             local_note(pred, scopes)]
    if R.has(NAME):
        b = R(NAME)
        lo, sc = b["local_s"], b["scheduler_s"]
        parts += ["## Overhead of the cluster, measured",
                  f"`python bench/runner_overhead.py --json figures/{NAME}.json`: `run_all.sh --quick` with local "
                  f"worker processes and with "
                  f"`--scheduler` at a `distributed.LocalCluster` of {b['workers']} worker processes (one thread "
                  f"each) on 127.0.0.1, back to back in the order {', '.join(b['order'])}, on {b['machine.cpu']} "
                  f"({b['machine.cores']} cores; load average {num(b['load_before'], 2)} before):",
                  table(("", "runs (s)", "median"),
                        [("local processes", ", ".join(num(x, 1) for x in lo), secs(statistics.median(lo))),
                         ("Dask cluster", ", ".join(num(x, 1) for x in sc), secs(statistics.median(sc)))]),
                  f"The cluster's median run differs from the local one's by **{pct(b['ratio'] - 1, 1, sign=True)}**."]
        if "overhead" in b:
            o = b["overhead"].data  # (plain numbers: sums and ranges of them)
            parts.append(
                "The check of the prediction. The same prediction as above is made from the job times of the first "
                "local run. It holds each figure's jobs and its recorded time outside them, but no results file "
                "holds the rest, so the bench measures it on that run's folder:\n\n"
                + "\n".join(f"- {item}" for item in (
                    f"run_all.sh's check pass, each script's `--check` one after another: "
                    f"{secs(sum(o['check_s'].values()))};",
                    f"each script's start-up (its `--check`): {num(min(o['check_s'].values()), 1)}-"
                    f"{num(max(o['check_s'].values()), 1)} s;",
                    f"a client's import of `distributed` and connection to the scheduler: {num(o['connect_s'], 1)} s;",
                    f"the drawing (`--plot-only` minus `--check`): {num(min(o['draw_s'].values()), 1)}-"
                    f"{num(max(o['draw_s'].values()), 1)} s a figure, {secs(sum(o['draw_s'].values()))} in all.")))
            parts.append(table(("run_all.sh --quick", "predicted", "measured (median)", "measured / predicted"), [
                ("local processes, one figure after another", secs(b["predicted_local_s"]),
                 secs(statistics.median(lo)), f"**{pct(b['local_measured_over_predicted'] - 1, 1, sign=True)}**"),
                ("Dask cluster, all at once", secs(b["predicted_scheduler_s"]), secs(statistics.median(sc)),
                 f"**{pct(b['measured_over_predicted'] - 1, 1, sign=True)}**")]))
            parts.append(f"From the jobs and records alone, the `--scheduler` run would have been predicted at "
                         f"{secs(b['predicted_scheduler_jobs_only_s'])}. What the model still leaves out: each "
                         "worker's first import of a figure's code, and on this machine the clients' own work, "
                         "which shares the 2 cores with the 2 workers (on a cluster the clients run elsewhere). "
                         "Seconds each, the overhead is a large share of a QUICK run of two minutes and a small "
                         "one of the paper's hours (`bench/predict_wall.py` leaves it out).")
        elif "predicted_scheduler_s" in b:
            parts.append(f"The same prediction as above, made from the job times of the first local run, gave "
                         f"{secs(b['predicted_scheduler_s'])} for the `--scheduler` run; the measured median is "
                         f"{secs(statistics.median(sc))}, **{pct(b['measured_over_predicted'] - 1, 1, sign=True)}** "
                         "of the prediction, leaving out what no results file holds (start-up, the check pass, the "
                         "connection, the drawing).")
    return "\n\n".join(parts)
