"""What runs the figure scripts, apart from the method in hypernet/: the command line and --set
(cli, overrides), results files and the committed-folder rule (results), staging and locks
(staging), the job runner on local processes or a Dask cluster (runner, local_pool, dask_cluster),
the job cache and the one reader of git (job_cache, provenance), the CPU clock of budgeted methods
(cpu_clock), the figure style (plotting), the repository's folders (folders), seed sweeps (seeds),
run_all.sh's driver (run_all) and the wall time predicted from recorded job times (wall_time).

Importing it checks that the script running is of the checkout whose code is imported
(folders.check_checkout), and that the experiments' packages are installed: hypernet alone (pip
install .) does not bring them."""
import importlib.util
import sys

from .folders import check_checkout

_MISSING = [m for m in ("matplotlib", "dask", "distributed", "optuna") if importlib.util.find_spec(m) is None]
if _MISSING:
    sys.exit(f"{', '.join(_MISSING)} not installed: the figure scripts need the experiments' packages; install them "
             "with `pip install -r requirements.txt` in the checkout (or pip install '.[experiments]'); the "
             "library alone (import hypernet) needs none of them")
check_checkout()
