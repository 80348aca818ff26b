#!/usr/bin/env bash
# Reproduce every figure of the paper that has a script in experiments/ (fig7_hpo: the appendix comparison,
# fig7_ablations: labelled ablations of its hyper-training;
# fig8_warmstart: beyond the paper, Section 4.2's suggested combination).
#   bash run_all.sh                  the paper-scale runs, results and figures into figures/
#   bash run_all.sh --quick          the small QUICK configs, into runs/quick/ (git-ignored)
#   bash run_all.sh --quick --out D  the same into folder D (what CI runs); D relative to where you are
#   --only fig2_global,fig4_local    only these figures;  --force  replace a PAPER result in --out
#   --seed N                         every figure with seed N (into runs/..._seed<N>/ unless --out)
#   --plot-only                      redraw every figure from its saved results, computing nothing
#   --scheduler tcp://HOST:8786      every figure's jobs on that Dask cluster (README: "Seeds and clusters")
#   --wait-workers SECONDS           with --scheduler: how long to wait for the first worker
# Checks every figure's flags and folder first (--check), then runs them; stops at the first failing
# script with its exit code.
set -euo pipefail
names=(fig2_global fig3_manifold fig4_local fig5_many fig6_gp fig7_hpo fig7_ablations fig8_warmstart)
die() { echo "run_all.sh: $*" >&2; exit 2; }
args=()
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    --quick|--force|--plot-only) args+=("$1"); shift ;;
    --seed)
      [ $# -ge 2 ] && [ -n "$2" ] || die "--seed needs a value, e.g. --seed 8"
      args+=(--seed "$2"); shift 2 ;;
    --out)
      [ $# -ge 2 ] || die "--out needs a folder"
      [ -n "$2" ] || die "--out is empty; give a folder"
      case "$2" in /*) out=$2 ;; *) out="$PWD/$2" ;; esac  # relative to the caller's folder, not ours
      args+=(--out "$out"); shift 2 ;;
    --scheduler|--wait-workers)
      [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value, e.g. $1 $([ "$1" = --scheduler ] && echo tcp://host:8786 || echo 60)"
      args+=("$1" "$2"); shift 2 ;;
    --only)
      [ $# -ge 2 ] && [ -n "$2" ] || die "--only needs figure names, e.g. --only fig2_global,fig4_local"
      only=",${2// /,},"; shift 2 ;;  # commas or spaces between names
    *) die "unknown argument '$1' (use --quick, --out DIR, --only NAME[,NAME], --seed N, --plot-only, --force, --scheduler ADDRESS, --wait-workers SECONDS)" ;;
  esac
done
cd "$(dirname "$0")"
run=()
for name in "${names[@]}"; do
  if [ -z "$only" ]; then
    [ -f "experiments/$name.py" ] && run+=("$name")
  elif [[ "$only" == *",$name,"* ]]; then
    [ -f "experiments/$name.py" ] || die "--only $name: experiments/$name.py does not exist"
    run+=("$name")
    while [[ "$only" == *",$name,"* ]]; do only=${only//,$name,/,}; done  # a name given twice runs once
  fi
done
left=$(echo "$only" | tr -s , ' ')
[ -z "${left// /}" ] || die "--only: unknown figure(s)${left% } (known: ${names[*]})"
[ -z "$only" ] || [ ${#run[@]} -gt 0 ] || die "--only names no figure; give names, e.g. --only fig2_global,fig4_local"
PYTHON=${PYTHON:-python}
for name in "${run[@]}"; do  # every figure's flags, folder and what it would replace, before any computing
  "$PYTHON" "experiments/$name.py" "${args[@]}" --check
done
start=$(date +%s)
for name in "${run[@]}"; do
  script="experiments/$name.py"
  echo "=== $script ${args[*]:-} ==="
  t0=$(date +%s)
  "$PYTHON" "$script" "${args[@]}"
  echo "=== $name done in $(( $(date +%s) - t0 )) s ==="
done
echo "run_all.sh: all done in $(( $(date +%s) - start )) s"
