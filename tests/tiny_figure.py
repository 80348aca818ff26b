"""A figure script that runs in a fraction of a second, for the tests of the shared command line
(experiments/harness/cli.py, experiments/harness/staging.py) in real processes:

    python tests/tiny_figure.py [--quick] [--seed N] [--out DIR] [--plot-only] [--force]

TINY_SLEEP=s makes run() sleep s seconds (time for a test to signal it); TINY_KILL=plot makes the
process SIGKILL itself while plotting, TINY_KILL=k at the k-th rename of a staged file into --out;
TINY_SIGNAL=NAME sends it that signal (e.g. SIGINT) at that rename instead of SIGKILL.
"""
import dataclasses
import os
import signal
import sys
import time

import numpy as np

from experiments.harness import cli, results, plotting

FIGURE = "tiny"


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    n: int = 50


PAPER = Config()
QUICK = Config(n=5)


def run(config, out):
    time.sleep(float(os.environ.get("TINY_SLEEP", 0)))
    x = np.random.default_rng(config.seed).standard_normal(config.n)
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics={"mean": x.mean()}, timings={"total": 0.0}, arrays={"x": x})


def plot(out):
    record, a = results.load_results(out, FIGURE)
    fig, ax = plotting.figure(figsize=(3, 2))
    ax.plot(a["x"])
    ax.set_title(f"{record['config_name']} seed {record['config']['seed']}")
    if os.environ.get("TINY_KILL") == "plot":
        os.kill(os.getpid(), signal.SIGKILL)
    return plotting.save(fig, out, FIGURE)


def kill_at_rename(k, sig=signal.SIGKILL):
    """Send this process `sig` just before its k-th rename of a staged file into the output folder."""
    real, count = os.replace, [0]

    def replace(src, dst):
        if ".stage-" in str(src) and ".stage-" not in str(dst):
            count[0] += 1
            if count[0] == k:
                os.kill(os.getpid(), sig)
        return real(src, dst)
    os.replace = replace


def main_in_process(*argv, runs=None):
    """cli.main of this figure in the calling process; `runs` collects the configs run() was called with."""
    def counted(config, out):
        if runs is not None:
            runs.append(config)
        return run(config, out)
    cli.main(FIGURE, counted, plot, paper=PAPER, quick=QUICK, argv=list(argv))


if __name__ == "__main__":
    if os.environ.get("TINY_KILL", "plot").isdigit():
        kill_at_rename(int(os.environ["TINY_KILL"]), getattr(signal, os.environ.get("TINY_SIGNAL", "SIGKILL")))
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=sys.argv[1:], description=__doc__)
