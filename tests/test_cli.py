"""The command line every figure script shares (hypernet/cli.py), in this process with
tests/tiny_figure.py: default output folders, protection of PAPER results, checks of --out and
--seed before any computing, and bench/step_cost.py's arguments."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hypernet import cli, results
from tests import tiny_figure as tiny

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """figures/ and runs/ of a repository in tmp_path, so that default folders can be tried."""
    monkeypatch.setattr(results, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(results, "RUNS", tmp_path / "runs")
    return tmp_path


def main(*argv, runs=None):
    """tiny's main; `runs` collects the configs run() was called with."""
    def run(config, out):
        if runs is not None:
            runs.append(config)
        return tiny.run(config, out)
    results.main(tiny.FIGURE, run, tiny.plot, paper=tiny.PAPER, quick=tiny.QUICK, argv=list(argv))


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
                       timeout=60)
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
