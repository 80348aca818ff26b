#!/usr/bin/env bash
# Reproduce every figure of the paper that has a script in experiments/.
#   bash run_all.sh                  the paper-scale runs, results and figures into figures/
#   bash run_all.sh --quick --out D  the small QUICK configs into folder D (what CI runs)
# Stops at the first failing script with its exit code.
set -euo pipefail
cd "$(dirname "$0")"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) args+=(--quick); shift ;;
    --out) [ $# -ge 2 ] || { echo "run_all.sh: --out needs a folder" >&2; exit 2; }; args+=(--out "$2"); shift 2 ;;
    *) echo "run_all.sh: unknown argument '$1' (use --quick and/or --out DIR)" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-python}
start=$(date +%s)
for name in fig2_global fig4_local fig5_many fig6_gp; do
  script="experiments/$name.py"
  [ -f "$script" ] || continue
  echo "=== $script ${args[*]:-} ==="
  t0=$(date +%s)
  "$PYTHON" "$script" "${args[@]}"
  echo "=== $name done in $(( $(date +%s) - t0 )) s ==="
done
echo "run_all.sh: all done in $(( $(date +%s) - start )) s"
