"""Page of the tests: what is checked against references, which faults are tried and what a user
sees, and every test of tests/ with its docstring. The list is read from the test files themselves
(module docstrings, test names, docstrings, expected-failure reasons), and every test the prose
cites must exist, so the page cannot drift from the suite."""
import ast
from functools import lru_cache
from pathlib import Path

from docs.fmt import RenderError, secs, table

TESTS = Path(__file__).resolve().parents[2] / "tests"


def _path(file):
    """tests/<group>/<file>: the tests are grouped by what they check (method/, figures/, harness/)."""
    found = sorted(TESTS.glob(f"*/{file}"))
    if not found:
        raise RenderError(f"tests/*/{file}: missing, but the tests page cites it")
    return found[0]


@lru_cache(maxsize=None)
def _module(file):
    return ast.parse(_path(file).read_text())


def _tests(file):
    """[(name, docstring, xfail reason or None)] of the module's test functions, in file order."""
    out = []
    for node in _module(file).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            out.append((node.name, ast.get_docstring(node) or "", _xfail(node)))
    return out


def _xfail(fn):
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("mark.xfail"):
            for kw in dec.keywords:
                if kw.arg == "reason":
                    return ast.literal_eval(kw.value)
            return "expected to fail"
    return None


def xfail_reason(file, test):
    """The reason an expected failure gives, read from the test file."""
    for name, _, reason in _tests(file):
        if name == test:
            if reason is None:
                raise RenderError(f"{_path(file)}::{test} is no longer an expected failure; update the page")
            return reason
    raise RenderError(f"tests/{file}::{test}: no such test, but a page cites it")


def cite(*refs):
    """'(`tests/test_cli.py`)' for refs 'test_cli.py' or 'test_cli.py::test_name', each checked to exist."""
    for ref in refs:
        file, _, test = ref.partition("::")
        if test and test not in {n for n, _, _ in _tests(file)}:
            raise RenderError(f"tests/{ref}: no such test, but the tests page cites it")
        _module(file)
    return "(" + ", ".join(f"`{_path(r.partition('::')[0]).relative_to(TESTS.parent)}{r[len(r.partition('::')[0]):]}`"
                           for r in refs) + ")"


def _words(name):
    return name.removeprefix("test_").replace("_", " ")


def page(R):
    files = [p.name for p in sorted(TESTS.glob("*/test_*.py"))]
    n = sum(len(_tests(f)) for f in files)
    parts = [f"`python -m pytest` runs the {n} test functions of the {len(files)} files in `tests/` (some are "
             "parametrised into several cases); `bash .ci/run` runs them in a fresh virtual environment from "
             "`requirements.txt` and then `bash run_all.sh --quick` into a temporary folder. A part of them: one "
             "file (`python -m pytest tests/method/test_algorithms.py`: Algorithms 1-4 against finite differences and "
             "ridge regression's closed form) or the tests whose names match (`python -m pytest -k closed_form`).",
             *TIMES(R), "## What the tests check the method against", REFERENCES(),
             "## What a user who gets something wrong sees",
             "Each case is a test that runs real processes and signals where it matters.", FAULTS()]
    parts.append("## Every test, file by file")
    for f in files:
        doc = ast.get_docstring(_module(f)) or ""
        items = []
        for name, text, reason in _tests(f):
            line = f"- `{name}`: {_words(name)}" + (f". {' '.join(text.split())}" if text else "")
            if reason:
                line += f" **Expected failure:** {' '.join(reason.split())}"
            items.append(line)
        parts.append(f"### `{_path(f).relative_to(TESTS.parent)}`\n\n{' '.join(doc.split())}\n\n" + "\n".join(items))
    return "\n\n".join(parts)


def REFERENCES():
    return "\n".join([
        "- finite differences of the hyper-training gradient (in φ) and of the hypergradient d L_valid(w_φ(λ)) / dλ "
        "for the linear, factorised and MLP hypernetworks "
        + cite("test_algorithms.py::test_gradients_by_finite_differences")
        + ", of the unrolled hypergradient through a whole training run "
        + cite("test_unrolled.py::test_hypergradient_matches_finite_differences") + ", and first and second "
        "derivatives of the hand-written primitives in `hypernet/primitives.py` " + cite("test_models.py") + ";",
        "- each primitive's hand-written gradient against autograd's derivative of the same formula, at first and "
        "second order, and against finite differences; the MLP and the hypernetworks built on them against textbook "
        "formulas; Adam's formula and its in-place passes bit for bit, and the textbook update "
        + cite("test_primitives.py::test_affine", "test_primitives.py::test_adam_formula_and_its_in_place_passes_are_bit_identical")
        + ";",
        "- the IFT hypergradient against ridge regression's closed form (conjugate gradient to 1e-8, the Neumann "
        "series converging as its terms grow) and finite differences through re-training " + cite("test_ift.py") + ";",
        "- the closed-form best response of ridge regression, w*(λ) = (X'X/N + e^λ I)⁻¹ X'y/N: Algorithm 1 matches "
        "it, Algorithm 2 with an MLP hypernetwork matches w*(λ) over its support, Algorithm 3 with a linear "
        "hypernetwork ends near λ* from either side, and the unrolled hypergradient of gradient descent run to "
        "convergence approaches the implicit one "
        + cite("test_algorithms.py::test_algorithm3_linear_hypernet_finds_the_optimum",
               "test_unrolled.py::test_gradient_descent_to_convergence_approaches_implicit_hypergradient") + ";",
        "- **Algorithm 4 does not reach λ*** on that problem, kept as a strict expected failure: \""
        + " ".join(xfail_reason("test_algorithms.py", "test_algorithm4_linear_hypernet_finds_the_optimum").split())
        + "\" (Figure 4 shows the same effect on MNIST);",
        "- the own-model example against its exact λ* " + cite("test_own_model.py::test_both_algorithms_land_near_lam_star")
        + ";",
        "- MNIST facts (label counts, first labels, shapes, ranges, its sha256) " + cite("test_data.py")
        + ", the paper's parameter counts " + cite("test_hypernets.py::test_parameter_counts_of_the_paper")
        + ", determinism (same seed, same numbers), the toy of Figure 3 against its closed forms "
        + cite("test_fig3.py") + ", and for each figure script every metric key from `run(QUICK)`, a non-empty "
        "figure and `--plot-only`."])


def FAULTS():
    return "\n".join([
        "- **Output folders:** only a PAPER run with the default seed writes `figures/`. `--quick` runs and other "
        "seeds go to the git-ignored `runs/quick/`, `runs/paper_seed8/`, and so on, and `--plot-only` redraws from "
        "the folder its flags point to. Replacing a PAPER result with any other run is refused before computing "
        "unless `--force` is given " + cite("test_cli.py::test_a_paper_result_is_replaced_only_with_force") + ".",
        "- **Bad `--out`:** an existing file, `/proc/x`, an unwritable folder or an empty value fails within a "
        "second with one line, e.g. `fig2_global: error: --out /proc/x: cannot write there (...)`. `run_all.sh` "
        "resolves a relative `--out` against the folder it is called from "
        + cite("test_cli.py::test_bad_out_fails_at_once_in_one_line", "test_run_all.py") + ".",
        "- **Kill mid-save:** a run writes its json, npz, png and pdf into a hidden staging folder and renames them "
        "into place at the end, the json last; json and npz carry one run id, which the PNG/PDF metadata records "
        "too. Processes killed with SIGKILL while plotting and between each rename, and stopped with "
        "SIGINT/SIGTERM while computing, never leave a figure mixed from two runs; a json/npz pair from two runs "
        "is refused naming both files; the next run or `--plot-only` finishes or removes the leftovers "
        + cite("test_interrupt.py") + ".",
        "- **Orphans:** the worker processes of Figures 4 and 5 die with their parent, whether it gets SIGKILL or "
        "SIGTERM " + cite("test_parallel.py::test_workers_end_with_their_parent") + ".",
        "- **Concurrent runs:** a second run of a figure into the same folder stops at once with `another process "
        "(pid N) is writing fig2_global into DIR; wait for it to finish or choose another --out` "
        + cite("test_interrupt.py::test_a_second_run_into_the_same_folder_is_refused") + ".",
        "- **Bad result files:** another figure's results, a cut or random npz, broken JSON, or json and npz from "
        "different runs each give one line naming the file and saying what to do; a damaged file in `figures/` "
        "gets the advice to restore it from git; `--plot-only` twice writes identical PNG and PDF bytes "
        + cite("test_results.py::test_bad_result_files_are_refused_in_one_line",
               "test_results.py::test_damaged_committed_results_are_restored_not_replaced") + ".",
        "- **Corrupt MNIST:** `data/mnist.npz` is checked against the sha256 in `data/README.md` once per process; "
        "a file with the right shapes but shuffled labels is refused with the rebuild command, and "
        "`data/build_mnist.py` replaces the file only with one whose hash matches "
        + cite("test_data.py::test_shuffled_labels_are_refused") + ".",
        "- **Bad settings:** non-positive or non-finite step sizes and σ, counts given as floats, empty batches, a "
        "sampler that returns no samples, a λ of the wrong shape: each stops before any work with its own "
        "message. All-zero weights under the unsquared norm penalty (no gradient at 0) are named as such; a run "
        "that diverges names the algorithm and the step; a loss that blows up but stays finite warns, and the "
        "warning is kept in the run's JSON "
        + cite("test_algorithms.py::test_nan_gradient_at_the_start_names_the_cause",
               "test_results.py::test_warnings_during_a_run_are_kept_in_the_json") + ".",
        "- **Arguments:** `--seed -1` says `seed -1 is negative`; `bench/step_cost.py --reps 0` says "
        "`argument --reps: 0 is not a positive integer` " + cite("test_cli.py::test_bad_seed_is_named",
                                                                 "test_cli.py::test_bench_refuses_zero_counts") + ".",
        "- **Drifted pages:** a page in `docs/` or a generated block of `README.md` that differs from what the "
        "results files say fails the suite, naming the page and its first differing line "
        + cite("test_docs.py") + "."])


def TIMES(R):
    """How long the suite took, measured (figures/bench_tests.json, `python bench/test_time.py --json ...`),
    and its 10 slowest tests."""
    if not R.has("bench_tests"):
        return []
    b = R("bench_tests")
    m = b["machine"]
    rows = [(f"`{x['test']}`" + ("" if x["phase"] == "call" else f" ({x['phase']})"), f"{x['s']:.1f} s")
            for x in b["slowest"]]
    return ["## How long they take",
            f"Measured: `python -m pytest` took **{secs(b['wall_s'])}** ({b['passed']} passed) on {m['cores']} cores "
            f"({m['cpu']}), in {b['workers']} worker processes (pytest-xdist, `-n {b['workers']}` in `pytest.ini`), "
            f"with a load average of {b['load_before']:.1f} when it began (other work on the machine slows every "
            "test). `python bench/test_time.py --json figures/bench_tests.json` measures it again. The 10 slowest "
            "tests (their own time, in one worker):",
            table(("test", "time"), rows)]


def readme_block(R):
    """README's line on how long the tests take, from the measured run (figures/bench_tests.json)."""
    if not R.has("bench_tests"):
        return "`python -m pytest`: not timed yet (`python bench/test_time.py --json figures/bench_tests.json`)."
    b = R("bench_tests")
    return (f"`python -m pytest` took {secs(b['wall_s'])} on {b['machine']['cores']} cores, measured "
            f"([docs/tests.md](docs/tests.md#how-long-they-take)).")
