"""Methods that run against a compute-time budget (Figures 5 and 7): the clock that stops them,
keeps their own compute time apart from the time spent evaluating them, and records their curves.
"""
import time

import numpy as np


def cpu_seconds():
    """The compute clock of every time-budgeted method: the CPU seconds of the thread that runs it.
    A method runs with one BLAS thread, so all of its compute is on this thread: on a free core
    these are its wall-clock seconds, and they stay so when other processes share the machine. In a
    worker process of its own (experiments/harness/runner.py) they are the process's CPU seconds; on a Dask
    worker they leave out the worker's own threads (its event loop, heartbeats and monitors, which
    took a quarter of a busy worker's process CPU time during Figure 7's hyper-training)."""
    return time.thread_time()


class Clock:
    """callback(step, state) for the training loops: keeps the method's own compute time (the time
    since it started minus the time spent evaluating), evaluates the current weights on valid and
    test every `every` seconds of it, and returns True once the budget is used up.
    timer: cpu_seconds by default."""

    def __init__(self, budget, every, *, weights, evaluate, timer=cpu_seconds):
        self.budget, self.dt, self.weights, self.evaluate = budget, every, weights, evaluate
        self.t, self.valid, self.test, self.step_at, self.steps, self.next = [], [], [], [], 0, 0.0
        self.timer, self.excluded = timer, 0.0
        self.start = timer()

    def __call__(self, step, state):
        now, self.steps = self.timer() - self.start - self.excluded, step + 1
        done = now >= self.budget
        if now >= self.next or done:
            t_eval = self.timer()
            v, te = self.evaluate(self.weights(state))
            self.t.append(now), self.valid.append(v), self.test.append(te), self.step_at.append(step + 1)
            self.next = (np.floor(now / self.dt) + 1) * self.dt
            self.excluded += self.timer() - t_eval
        return done

    def curves(self):
        return {"t": np.array(self.t), "valid": np.array(self.valid), "test": np.array(self.test),
                "steps_at": np.array(self.step_at), "steps": self.steps}


def truncate(curve, end):
    """The part of a curve up to compute time `end` (what a run with budget `end` would have made)."""
    keep = curve["t"] <= end
    out = {k: curve[k][keep] for k in ("t", "valid", "test", "steps_at")}
    return dict(out, steps=int(out["steps_at"][-1]))


def final_window(curve, fraction, column="valid"):
    """The evaluations in the last `fraction` of a curve's compute time."""
    t = np.asarray(curve["t"])
    return np.asarray(curve[column])[t >= (1 - fraction) * t[-1]]


def final(curve, fraction, column="valid"):
    """Mean of the evaluations in the last `fraction` of a curve: the hypernetwork's curve is noisy,
    and one evaluation can sit on a spike."""
    return float(np.mean(final_window(curve, fraction, column)))


def final_se(curve, fraction, column="valid"):
    """Standard error of final(): sd of the final window's evaluations / sqrt(their count); 0 for one."""
    w = final_window(curve, fraction, column)
    return float(np.std(w, ddof=1) / np.sqrt(len(w))) if len(w) > 1 else 0.0


def first_time(t, values, level):
    """The first time at which a curve is at or below `level`, or None if it never is."""
    hit = np.nonzero(np.asarray(values) <= level)[0]
    return float(np.asarray(t)[hit[0]]) if len(hit) else None
