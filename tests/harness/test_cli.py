"""The command line every figure script shares (experiments/harness/cli.py), in this process with
tests/tiny_figure.py: default output folders, protection of PAPER results, checks of --out and
--seed before any computing, and bench/step_cost.py's arguments."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checkout import checkout_env
from experiments.harness import cli, results
from tests import tiny_figure as tiny

ROOT = Path(__file__).resolve().parents[2]


main = tiny.main_in_process


def record(folder):
    return results.load_results(folder, "tiny")[0]


def test_default_folders():
    assert cli.default_out(False, 7, 7) == results.FIGURES
    assert cli.default_out(True, 7, 7) == results.RUNS / "quick"
    assert cli.default_out(False, 8, 7) == results.RUNS / "paper_seed8"
    assert cli.default_out(True, 8, 7) == results.RUNS / "quick_seed8"
    assert (ROOT / ".gitignore").read_text().count("/runs/") == 1


def test_only_paper_with_the_default_seed_writes_figures(folders):
    main("--quick")
    main("--seed", "8")
    assert not (folders / "figures").exists()
    assert record(folders / "runs" / "quick")["config_name"] == "QUICK"
    assert record(folders / "runs" / "paper_seed8")["config"]["seed"] == 8
    main()
    assert record(folders / "figures")["config_name"] == "PAPER"
    assert sorted(p.name for p in (folders / "figures").iterdir()) == [f"tiny.{e}" for e in ("json", "npz", "pdf", "png")]


def test_plot_only_plots_the_folder_of_its_flags(folders, capsys):
    main("--quick")
    png = folders / "runs" / "quick" / "tiny.png"
    png.unlink()
    main("--plot-only", "--quick")
    assert png.exists() and not (folders / "figures").exists()
    with pytest.raises(SystemExit, match="no saved results for tiny in .*paper_seed3"):
        main("--plot-only", "--seed", "3")


def test_a_paper_result_is_replaced_only_with_force(tmp_path):
    main("--out", str(tmp_path))
    before = (tmp_path / "tiny.json").read_bytes()
    runs = []
    for argv in (["--quick"], ["--seed", "8"], ["--quick", "--seed", "7"]):
        with pytest.raises(SystemExit) as e:
            main("--out", str(tmp_path), *argv, runs=runs)
        msg = str(e.value)
        assert msg.startswith(f"tiny: error: {tmp_path}/tiny.json holds a PAPER result (seed 7); refusing")
        assert "--force" in msg and "\n" not in msg
    assert runs == [] and (tmp_path / "tiny.json").read_bytes() == before  # refused before computing
    main("--out", str(tmp_path), runs=runs)  # the same PAPER run again may replace it
    main("--out", str(tmp_path), "--quick", "--force", runs=runs)
    assert len(runs) == 2 and record(tmp_path)["config_name"] == "QUICK"
    main("--out", str(tmp_path), "--quick", "--seed", "9", runs=runs)  # a QUICK result is not protected
    assert record(tmp_path)["config"]["seed"] == 9


def _bad_outs(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return {"an existing file": a_file, "a folder in a file": a_file / "sub", "/proc/x": Path("/proc/x"),
            "read-only /proc/self": Path("/proc/self"), "empty": ""}


@pytest.mark.parametrize("case", ["an existing file", "a folder in a file", "/proc/x", "read-only /proc/self", "empty"])
def test_bad_out_fails_at_once_in_one_line(tmp_path, case):
    out, runs = _bad_outs(tmp_path)[case], []
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as e:
        main("--quick", "--out", str(out), runs=runs)
    assert time.perf_counter() - t0 < 5 and runs == []
    msg = str(e.value)
    assert msg.startswith("tiny: error: --out") and "\n" not in msg and "Traceback" not in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    with pytest.raises(SystemExit, match="cannot write there"):
        main("--out", str(ro))


@pytest.mark.parametrize("seed, says", [("-1", "seed -1 is negative"), ("x", "seed 'x' is not an integer")])
def test_bad_seed_is_named(seed, says, capsys):
    with pytest.raises(SystemExit) as e:
        main("--seed", seed)
    assert e.value.code == 2 and says in capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [(["--reps", "0"], "argument --reps: 0 is not a positive integer"),
                                        (["--steps", "0"], "argument --steps: 0 is not a positive integer"),
                                        (["--steps", "-3"], "argument --steps: -3 is not a positive integer")])
def test_bench_refuses_zero_counts(argv, says):
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "step_cost.py"), *argv], capture_output=True, text=True,
                       env=checkout_env(), timeout=60)
    assert p.returncode == 2 and says in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("argv, says", [
    (["--reps", "2", "--reference", "--json", str(ROOT / "figures" / "bench_step_cost.json")],
     "only the default --reps and --steps with --reference write the committed figures/"),
    (["--json", str(ROOT / "figures" / "bench_step_cost.json")], "only the default --reps and --steps with --reference"),
    (["--json", str(ROOT / "figures")], "is a folder; give a file name")])
def test_bench_writes_the_committed_numbers_only_at_full_scale(argv, says):
    """docs/bench.md is rendered from figures/bench_step_cost.json: a quick look must not replace it."""
    before = (ROOT / "figures" / "bench_step_cost.json").read_bytes()
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "step_cost.py"), *argv], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and says in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert (ROOT / "figures" / "bench_step_cost.json").read_bytes() == before


@pytest.mark.parametrize("argv, says", [
    (["--steps", "0"], "argument --steps: 0 is not a positive integer"),
    (["--repeats", "-1"], "argument --repeats: -1 is not a positive integer"),
    (["--steps", "10", "--json", str(ROOT / "figures" / "bench_cv_grid.json")],
     "only the default --steps and --repeats write the committed figures/"),
    (["--json", str(ROOT / "figures")], "is a folder; give a file name"),
    (["--json", "/nonexistent-folder/x.json"], "its folder does not exist or cannot be written")])
def test_grid_bench_refuses_bad_arguments_before_any_work(argv, says):
    """bench/cv_grid.py: one line, before any training; the committed figures/bench_cv_grid.json untouched."""
    before = (ROOT / "figures" / "bench_cv_grid.json").read_bytes()
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "cv_grid.py"), *argv], capture_output=True, text=True,
                       env=checkout_env(), timeout=60)
    assert p.returncode == 2 and says in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert (ROOT / "figures" / "bench_cv_grid.json").read_bytes() == before


@pytest.mark.parametrize("argv, says", [
    (["--repeats", "0"], "argument --repeats: 0 is not a positive integer"),
    (["--repeats", "1", "--json", str(ROOT / "figures" / "bench_runner_overhead.json")],
     "only the default --repeats write the committed figures/"),
    (["--json", "/nonexistent-folder/x.json"], "its folder does not exist or cannot be written"),
    (["--json", "/proc/x.json"], "give a path in a writable folder")])  # (root may "write" /proc, but makes no file)
def test_runner_overhead_bench_refuses_bad_arguments_before_any_work(argv, says):
    """bench/runner_overhead.py (minutes of runs): one line before any cluster starts; without
    --json it only prints, so the committed figures/bench_runner_overhead.json is never replaced by accident."""
    before = (ROOT / "figures" / "bench_runner_overhead.json").read_bytes()
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "runner_overhead.py"), *argv], capture_output=True,
                       text=True, env=checkout_env(), timeout=60)
    assert p.returncode == 2 and says in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert (ROOT / "figures" / "bench_runner_overhead.json").read_bytes() == before


@pytest.mark.parametrize("argv, says", [
    (["--base", "HEAD", "--json", "/tmp"], "--json /tmp: is a folder; give a file name"),
    (["--base", "HEAD", "--json", "/nonexistent-folder/x.json"], "its folder does not exist or cannot be written"),
    (["--base", "HEAD", "--rounds", "1", "--json", str(ROOT / "figures" / "bench_before_after.json")],
     "only the default --rounds and --reps write the committed figures/"),
    (["--base", "HEAD", "--reps", "0"], "argument --reps: 0 is not a positive integer"),
    (["--base", "no-such-commit"], "--base 'no-such-commit' is not a commit of this repository"),
    (["--base", "HEAD", "--json", str(ROOT / "figures" / "fig2_global.json")],
     "in figures/ this benchmark writes only bench_before_after.json"),
    (["--base", "HEAD", "--json", ""], "--json is empty")])
def test_before_after_bench_refuses_bad_arguments_before_any_work(argv, says):
    """bench/before_after.py: one line before any worktree or timing (a bad --json came after a
    minute of timing, as a traceback)."""
    before = sorted(p.name for p in (ROOT / "figures").iterdir())
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "before_after.py"), *argv], capture_output=True,
                       text=True, env=checkout_env(), timeout=60)
    assert p.returncode == 2 and says in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert sorted(p.name for p in (ROOT / "figures").iterdir()) == before


def test_before_after_terminated_removes_its_worktree():
    """SIGTERM (a scheduler's time limit, `timeout`) while it times the base commit: one line, and
    the temporary git worktree of the base commit is removed, as after Ctrl-C."""
    def worktrees():
        return subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout.count("\n")
    before = worktrees()
    p = subprocess.Popen([sys.executable, "-u", str(ROOT / "bench" / "before_after.py"), "--base", "HEAD", "--rounds", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=checkout_env())
    deadline = time.time() + 60
    while worktrees() == before and time.time() < deadline:
        time.sleep(0.2)
    assert worktrees() == before + 1
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1 and err.strip() == ("bench/before_after.py: terminated; nothing was written, the base "
                                                 "commit's worktree was removed"), err
    assert worktrees() == before


@pytest.mark.parametrize("argv, says", [(["--workers", "0"], "0 is not a positive integer"),
                                        (["--workers", "-3"], "-3 is not a positive integer"),
                                        (["--folder", "/nonexistent-folder"], "not a folder"),
                                        (["--folder", str(ROOT / "data")], "holds no figure's results"),
                                        (["--folder", "QUICK"], "needs the job times of PAPER runs; fig9_tiny is QUICK"),
                                        (["--folder", "[1, 2]"], "fig9_tiny.json is not a figure's results record"),
                                        (["--folder", "{bad"], "fig9_tiny.json is not a figure's results record")])
def test_predict_wall_refuses_bad_arguments(argv, says, tmp_path):
    if argv[-1] in ("QUICK", "[1, 2]", "{bad"):  # a results file of another config, or that is not a record
        (tmp_path / "fig9_tiny.json").write_text('{"config_name": "QUICK"}' if argv[-1] == "QUICK" else argv[-1])
        argv = ["--folder", str(tmp_path)]
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "predict_wall.py"), *argv], capture_output=True,
                       text=True, env=checkout_env(), timeout=60)
    assert p.returncode == 2 and says in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_ctrl_c_in_a_bench_script_is_one_line():
    """SIGINT while bench/step_cost.py computes (it printed its first line from main()): one line
    naming it, no traceback. SIGINT gets its default disposition in the child: a shell starts
    background jobs with it ignored, and Python then installs no KeyboardInterrupt handler."""
    p = subprocess.Popen([sys.executable, "-u", str(ROOT / "bench" / "step_cost.py")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=checkout_env(),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stdout.readline().startswith("hyper step = ")  # inside main(), computing
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 1 and err.strip() == "bench/step_cost.py: interrupted; nothing was written", err


@pytest.mark.parametrize("script", ["before_after", "cv_grid", "predict_wall", "runner_overhead", "step_cost"])
def test_every_bench_and_example_script_ends_ctrl_c_in_one_line(script, capsys):
    """Each runs its main() through cli.interruptible, which turns Ctrl-C into one line."""
    path = ROOT / "bench" / f"{script}.py"
    assert f'cli.interruptible("bench/{script}.py", main' in path.read_text()
    for example in ("own_model", "own_logistic"):
        assert f'cli.interruptible("experiments/{example}.py", main' in (ROOT / "experiments" / f"{example}.py").read_text()

    def main():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as e:
        cli.interruptible(f"bench/{script}.py", main, "nothing was written")
    assert str(e.value) == f"bench/{script}.py: interrupted; nothing was written"


# ---- the committed folder: one rule, at the folder the files end up in ------------------------
def snapshot_dir(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def _committed_spellings(folders):
    """figures/ itself, a symlink to it, and figures/../figures."""
    link = folders / "link"
    link.symlink_to(folders / "figures")
    return [folders / "figures", link, folders / "figures" / ".." / "figures"]


@pytest.mark.parametrize("argv", [["--quick", "--force"], ["--quick"], ["--seed", "8", "--force"],
                                  ["--quick", "--seed", "7", "--force"]])
def test_only_paper_with_the_default_seed_ever_writes_the_committed_folder(folders, argv):
    """A QUICK run or another seed into figures/, a symlink to it or figures/../figures is refused
    before computing, with --force too, and also when figures/tiny.json is missing or truncated."""
    main()  # the committed PAPER result
    committed = folders / "figures"
    before = snapshot_dir(committed)
    for out in _committed_spellings(folders):
        for damage in (None, "missing", "truncated"):  # an unreadable PAPER result is not "nothing to keep"
            if damage == "missing":
                (committed / "tiny.json").unlink()
            elif damage == "truncated":
                (committed / "tiny.json").write_text('{"figure": "tiny", "config_na')
            runs = []
            with pytest.raises(SystemExit) as e:
                main("--out", str(out), *argv, runs=runs)
            msg = str(e.value)
            assert msg.startswith(f"tiny: error: only a PAPER run writes the committed results in {results.FIGURES}, "
                                  "with the default seed 7; this ") and "\n" not in msg
            assert runs == []  # refused before computing
            (committed / "tiny.json").write_bytes(before["tiny.json"])
        assert snapshot_dir(committed) == before


def test_check_runs_nothing_and_refuses_what_the_run_would(folders):
    """--check (run_all.sh's first pass): the run's checks, no computing, nothing saved; what the
    run would refuse (a PAPER result it may not replace) it refuses in the same line."""
    runs = []
    main("--quick", "--out", str(folders / "q"), "--check", runs=runs)
    assert runs == [] and not (folders / "q" / "tiny.json").exists()
    (folders / "keep").mkdir()
    main("--quick", "--out", str(folders / "keep" / "new" / "deeper"), "--check", runs=runs)
    assert list((folders / "keep").iterdir()) == []  # the folders it made for the probe are removed, parents too
    main("--out", str(folders / "p"), runs=runs)  # a PAPER result there
    with pytest.raises(SystemExit) as e:
        main("--quick", "--out", str(folders / "p"), "--check", runs=runs)
    assert "holds a PAPER result (seed 7); refusing to replace it" in str(e.value) and len(runs) == 1


def test_ctrl_c_says_how_many_finished_jobs_a_rerun_reuses(tmp_path):
    """Interrupted after 2 of its jobs finished: the line says they are kept for the same command."""
    from experiments.harness import job_cache

    def run(config, out):
        cache = job_cache.JobCache(cli.jobs_folder(tmp_path, "tiny"))
        cache.put(["job", 1], 1.0, {})
        cache.put(["job", 2], 2.0, {})
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as e:
        cli.main(tiny.FIGURE, run, tiny.plot, paper=tiny.PAPER, quick=tiny.QUICK, argv=["--quick", "--out", str(tmp_path)])
    assert str(e.value) == (f"tiny: interrupted; nothing was saved, and the results in {tmp_path} are as they were; "
                            "2 finished job(s) are kept for the same command to reuse")


@pytest.mark.parametrize("argv", [["--quick"], []])
def test_no_run_writes_a_folder_inside_the_committed_one(folders, argv):
    """figures/mine (QUICK, or PAPER with its default seed too: figures/ holds only the PAPER run's
    own files) and a staging-like name inside it: one line, before computing; nothing created there."""
    main()  # the committed PAPER result
    before = snapshot_dir(folders / "figures")
    for out in (folders / "figures" / "mine", folders / "figures" / "a" / "b", folders / "link" / "mine"):
        if out.parent.name == "link" and not out.parent.exists():
            out.parent.symlink_to(folders / "figures")
        runs = []
        with pytest.raises(SystemExit) as e:
            main("--out", str(out), *argv, runs=runs)
        msg = str(e.value)
        assert msg.startswith(f"tiny: error: {out} is inside the committed {results.FIGURES}") and "\n" not in msg
        assert runs == [] and not out.exists()
    assert snapshot_dir(folders / "figures") == before


def test_save_results_and_plotting_refuse_the_committed_folder_from_python(folders):
    """From Python too: run() into figures/ or into a staging folder in it, save_results with a PAPER
    config of another seed, and plotting.save of a result that is not the committed one."""
    from experiments.harness import plotting
    committed = folders / "figures"
    committed.mkdir()
    stage = committed / ".tiny.stage-20260101T000000Z-abcdef"
    stage.mkdir()
    for out, config in [(committed, tiny.QUICK), (stage, tiny.QUICK), (stage, tiny.Config(seed=8)),
                        (folders / "link", tiny.Config(seed=8))]:
        if out.name == "link":
            out.symlink_to(committed)
        with pytest.raises(ValueError, match="only a PAPER run writes the committed results"):  # CommittedError
            tiny.run(config, out)
    assert [p.name for p in committed.iterdir()] == [stage.name] and list(stage.iterdir()) == []
    tiny.run(tiny.QUICK, folders / "quick")
    for name in ("tiny.json", "tiny.npz"):  # a QUICK result placed by hand (or by an older version)
        (stage / name).write_bytes((folders / "quick" / name).read_bytes())
    with pytest.raises(ValueError, match=r"this QUICK run of tiny \(seed 7\) may not"):
        tiny.plot(stage)
    assert sorted(p.name for p in stage.iterdir()) == ["tiny.json", "tiny.npz"]
    tiny.run(tiny.PAPER, committed)  # the one run that may
    with pytest.raises(ValueError, match="drawn only by the figure's command line"):  # CommittedError
        tiny.plot(committed)  # its figure: only through the command line (the next test)


def test_plotting_save_draws_into_the_committed_folder_only_for_the_figure_command(folders):
    """plotting.save (a figure script's plot()) called from Python does not overwrite the committed
    PNG and PDF, even of the committed PAPER result; the figure's command line does: a PAPER run with
    the default seed, and --plot-only, which redraws the committed figure byte for byte."""
    from experiments.harness import plotting
    committed = folders / "figures"
    main()  # the PAPER run with the default seed: its figure is drawn into figures/
    before = snapshot_dir(committed)
    assert {"tiny.png", "tiny.pdf"} <= set(before)
    fig, ax = plotting.figure(figsize=(3, 2))
    ax.plot([3, 1, 2])
    for draw in (lambda: plotting.save(fig, committed, "tiny"), lambda: tiny.plot(committed),
                 lambda: plotting.save(fig, committed / ".." / "figures", "tiny")):
        with pytest.raises(results.CommittedError) as e:
            draw()
        msg = str(e.value)
        assert "\n" not in msg and msg.startswith(f"{committed}") and "python experiments/tiny.py" in msg, msg
        assert "--plot-only" in msg and "another folder" in msg, msg
    assert snapshot_dir(committed) == before
    main("--plot-only")  # the figure's own redraw of the committed result
    assert snapshot_dir(committed) == before


def test_every_figure_uses_the_default_seed_of_the_committed_results():
    """results.DEFAULT_SEED, which the guard of figures/ checks, is every figure's PAPER seed."""
    import importlib
    for path in sorted((ROOT / "experiments").glob("fig*_*.py")):
        module = importlib.import_module(f"experiments.{path.stem}")
        assert module.PAPER.seed == results.DEFAULT_SEED, path.stem
    assert tiny.PAPER.seed == results.DEFAULT_SEED


def test_an_unreadable_result_elsewhere_is_replaced_only_with_force(tmp_path):
    """A results file that cannot be read may have been a PAPER result: not "nothing to keep"."""
    main("--out", str(tmp_path), "--quick")
    (tmp_path / "tiny.json").write_text("{ truncated")
    runs = []
    with pytest.raises(SystemExit, match="is not a readable results file, so what it held .* is unknown") as e:
        main("--out", str(tmp_path), "--quick", runs=runs)
    assert "--force" in str(e.value) and runs == []
    main("--out", str(tmp_path), "--quick", "--force", runs=runs)
    assert len(runs) == 1 and record(tmp_path)["config_name"] == "QUICK"


# ---- seeds, folders and files that would fail late -----------------------------------------------
@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "experiments").glob("*.py") if p.stem != "__init__"))
def test_every_script_checks_the_seed_range_up_front(script, capsys):
    """scikit-learn takes seeds below 2**32: 2**32 is refused at once, in one line, by every script."""
    import importlib
    argv = ["fig2_global", "--seeds", "1", str(2 ** 32)] if script == "seeds" else ["--seed", str(2 ** 32)]
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as e:
        importlib.import_module(f"experiments.{script}").main([*argv, "--quick"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "seed 4294967296 is too large; need at most 4294967295" in err, err
    assert "Traceback" not in err and time.perf_counter() - t0 < 5


@pytest.mark.parametrize("what", ["a name too long", "the lock is a folder", "the json is a folder",
                                  "the png is a folder"])
def test_bad_files_in_out_fail_before_computing_in_one_line(tmp_path, what):
    """A folder name too long, or a folder where the lock or a result file goes: one line, nothing run."""
    out = tmp_path / ("x" * 300 if what == "a name too long" else "out")
    name = {"the lock is a folder": ".tiny.lock", "the json is a folder": "tiny.json",
            "the png is a folder": "tiny.png"}.get(what)
    if name:
        (out / name).mkdir(parents=True)
    runs = []
    with pytest.raises(SystemExit) as e:
        main("--quick", "--out", str(out), runs=runs)
    msg = str(e.value)
    assert runs == [] and "\n" not in msg and msg.startswith("tiny: error: ")
    assert "name is too long" in msg if name is None else f"{out / name} is a folder" in msg


# ---- --plot-only: advice that keeps the flags, results that match them -----------------------
def test_plot_only_advice_keeps_the_seed_and_the_folder_must_hold_that_seed(folders):
    """The advice of a failed --plot-only --seed N keeps --seed N, and a result of another seed or
    config in the folder of the flags is refused instead of drawn."""
    with pytest.raises(SystemExit) as e:
        main("--plot-only", "--seed", "3")
    assert "Run `python experiments/tiny.py --seed 3` before --plot-only" in str(e.value)
    main("--seed", "3")  # the advice, followed
    main("--plot-only", "--seed", "3")
    # a seed-7 result written into the seed-3 folder by hand is not drawn as seed 3
    main("--out", str(folders / "runs" / "quick_seed3"), "--quick")
    with pytest.raises(SystemExit) as e:
        main("--plot-only", "--quick", "--seed", "3")
    assert str(e.value) == (f"tiny: error: {folders / 'runs' / 'quick_seed3'} holds a QUICK result with seed 7, not "
                            "the QUICK run with seed 3 asked for; run `python experiments/tiny.py --quick --seed 3` "
                            "to make that one")
    with pytest.raises(SystemExit, match="holds a PAPER result with seed 3, not the QUICK run with seed 3"):
        main("--plot-only", "--quick", "--seed", "3", "--out", str(folders / "runs" / "paper_seed3"))
    main("--plot-only", "--out", str(folders / "runs" / "paper_seed3"))  # --out alone draws what is there


def test_the_step_cost_bench_runs_and_writes_its_record(tmp_path):
    """bench/step_cost.py end to end, at its smallest (bench/before_after.py runs it in two checkouts)."""
    import json
    out = tmp_path / "cost.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "step_cost.py"), "--reps", "1", "--steps", "2", "--json",
                        str(out)], capture_output=True, text=True, env=checkout_env(), timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    record = json.loads(out.read_text())
    assert [c["case"] for c in record["cases"]] and record["machine"]["cpu"]
