#!/usr/bin/env bash
# Reproduce the paper: Figures 2-6 and the appendix comparison (fig7_hpo); --all adds the labelled
# ablations (fig7_ablations) and the experiments beyond the paper (fig8_warmstart, ...).
#   bash run_all.sh                  the paper-scale runs, results and figures into figures/
#   bash run_all.sh --all            every figure, the ablations and the experiments beyond the paper too
#   bash run_all.sh --list           the figures the command would run, one per line; runs nothing
#   bash run_all.sh --quick          the small QUICK configs, into runs/quick/ (git-ignored)
#   bash run_all.sh --quick --out D  the same into folder D (what CI runs); D relative to where you are
#   --only fig2_global,fig4_local    only these figures;  --force  replace a PAPER result in --out
#   --seed N                         every figure with seed N (into runs/..._seed<N>/ unless --out)
#   --plot-only                      redraw every figure from its saved results, computing nothing
#   --scheduler tcp://HOST:8786      every figure at once, their jobs on that Dask cluster (README: "Seeds and clusters")
#   --wait-workers SECONDS           with --scheduler: how long to wait for the first worker
# Checks every figure's flags and folder first (each script's --check), then runs them, printing the time spent and
# left at each figure; stops at the first failing script with its exit code. The driver is
# experiments/harness/run_all.py, run as this process (exec): a signal to this pid, SIGKILL included,
# ends the running figure and its workers too, and the same command resumes from its finished jobs.
# PYTHON: the virtual environment's python (default: `python` on the PATH).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
PYTHON=${PYTHON:-python}
if ! command -v "$PYTHON" > /dev/null 2>&1; then
  echo "run_all.sh: no '$PYTHON' here: activate the virtual environment (. .venv/bin/activate) or set PYTHON, e.g. PYTHON=.venv/bin/python bash run_all.sh" >&2
  exit 2
fi
exec "$PYTHON" "$(dirname "$0")/experiments/harness/run_all.py" "$@"
