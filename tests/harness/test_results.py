"""Saving and loading results (experiments/harness/results.py): round trip, missing results, refused NaN
metrics, atomic writes, and the shared command line."""
import dataclasses
import json

import numpy as np
import pytest

from experiments.harness import cli, results


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    lr: float = 1e-4
    sizes: tuple = (784, 10)


def save(out, metrics=None, arrays=None, figure="figX"):
    metrics = {"lam_opt": np.float64(1.836), "losses": np.array([0.5, 0.25]), "nested": {"n": np.int64(3)}} \
        if metrics is None else metrics
    arrays = {"curve": np.linspace(0, 1, 5), "grid": np.arange(6).reshape(2, 3)} if arrays is None else arrays
    return results.save_results(out, figure, config_name="QUICK", config=Config(), metrics=metrics,
                                timings={"total": 1.5, "cv": np.float64(0.5)}, arrays=arrays)


def test_round_trip(tmp_path):
    record = save(tmp_path)
    loaded, arrays = results.load_results(tmp_path, "figX")
    assert loaded == record == json.loads((tmp_path / "figX.json").read_text())
    assert loaded["figure"] == "figX" and loaded["config_name"] == "QUICK"
    assert loaded["config"] == {"seed": 7, "lr": 1e-4, "sizes": [784, 10]}
    assert loaded["metrics"] == {"lam_opt": 1.836, "losses": [0.5, 0.25], "nested": {"n": 3}}
    assert loaded["timings_s"] == {"total": 1.5, "cv": 0.5}
    assert {"python", "numpy", "autograd", "scipy", "machine"} <= set(loaded["versions"])
    assert set(arrays) == {"curve", "grid"}
    np.testing.assert_array_equal(arrays["curve"], np.linspace(0, 1, 5))
    np.testing.assert_array_equal(arrays["grid"], np.arange(6).reshape(2, 3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figX.json", "figX.npz"]  # no temporary files left


def test_load_without_files(tmp_path):
    with pytest.raises(results.ResultsMissing) as e:
        results.load_results(tmp_path, "figX")
    msg = str(e.value)
    assert "figX" in msg and str(tmp_path) in msg and "python experiments/figX.py" in msg
    assert isinstance(e.value, FileNotFoundError)
    save(tmp_path)
    (tmp_path / "figX.npz").unlink()  # half of the results is no results
    with pytest.raises(results.ResultsMissing):
        results.load_results(tmp_path, "figX")


def test_damaged_committed_results_are_restored_not_replaced(tmp_path, monkeypatch):
    """A damaged file in figures/ gets the advice to restore it from git, never a QUICK run into it."""
    save(tmp_path)
    monkeypatch.setattr(results, "FIGURES", tmp_path)
    (tmp_path / "figX.json").write_text("{ truncated")
    with pytest.raises(results.ResultsInvalid, match="committed PAPER results: restore them with `git checkout") as e:
        results.load_results(tmp_path, "figX")
    assert "--quick" not in str(e.value)
    (tmp_path / "figX.json").unlink()
    with pytest.raises(results.ResultsMissing, match="git checkout"):
        results.load_results(tmp_path, "figX")


@pytest.mark.parametrize("metrics", [{"loss": float("nan")}, {"a": {"b": np.inf}}, {"curve": [0.1, float("nan")]},
                                     {"curve": np.array([[0.1, 0.2], [np.nan, 0.3]])}],
                         ids=["nan", "nested inf", "nan in list", "nan in 2-d array"])
def test_nan_metrics_are_refused_and_leave_no_file(tmp_path, metrics):
    with pytest.raises(FloatingPointError, match="NaN or Inf; nothing was saved"):
        save(tmp_path / "out", metrics=metrics)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_nan_metrics_do_not_touch_earlier_results(tmp_path):
    save(tmp_path)
    before = (tmp_path / "figX.json").read_text()
    with pytest.raises(FloatingPointError):
        save(tmp_path, metrics={"loss": float("nan")})
    assert (tmp_path / "figX.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figX.json", "figX.npz"]


def test_atomic_write_leaves_no_file_when_the_write_fails(tmp_path):
    target = tmp_path / "sub" / "x.txt"

    def failing(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        results.atomic_write(target, failing)
    assert list((tmp_path / "sub").iterdir()) == []
    # an existing file keeps its old content when a later write fails
    results.atomic_write(target, lambda tmp: open(tmp, "w").write("old"))
    with pytest.raises(OSError):
        results.atomic_write(target, failing)
    assert target.read_text() == "old" and [p.name for p in (tmp_path / "sub").iterdir()] == ["x.txt"]


def test_progress_prints_the_last_step(capsys):
    p = results.Progress("fig", 3, every_s=1e9)
    for step in range(3):
        p(step, loss=0.5 * step, lam=np.array([1.0, 2.0]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[fig] 3/3") and "loss=1" in lines[0] and "lam=mean 1.5" in lines[0]


def test_main_command_line(tmp_path, capsys):
    paper, quick = Config(), Config(lr=1e-2)
    seen = []

    def run(config, out):
        seen.append(config)
        save(out)

    def plot(out):
        results.load_results(out, "figX")
        return [f"{out}/figX.png"]
    cli.main("figX", run, plot, paper=paper, quick=quick, argv=["--quick", "--seed", "3", "--out", str(tmp_path)])
    assert seen == [Config(seed=3, lr=1e-2)]
    assert f"wrote {tmp_path}/figX.png" in capsys.readouterr().out
    cli.main("figX", run, plot, paper=paper, quick=quick, argv=["--plot-only", "--out", str(tmp_path)])
    assert len(seen) == 1  # --plot-only does not run
    with pytest.raises(SystemExit) as e:
        cli.main("figX", run, plot, paper=paper, quick=quick, argv=["--plot-only", "--out", str(tmp_path / "empty")])
    assert str(e.value).startswith("figX: error: no saved results for figX")

    missing = tmp_path / "typo" / "dir"
    with pytest.raises(SystemExit) as e:
        cli.main("figX", run, plot, paper=paper, quick=quick, argv=["--plot-only", "--out", str(missing)])
    assert "no saved results for figX" in str(e.value) and "before --plot-only" in str(e.value)
    assert not (tmp_path / "typo").exists()  # a typo in --out leaves no stray folder

    def old_plot(out):  # a plot that needs an array an older version of the script did not save
        return [results.load_results(out, "figX")[1]["new_curve"]]
    with pytest.raises(SystemExit) as e:
        cli.main("figX", run, old_plot, paper=paper, quick=quick, argv=["--plot-only", "--out", str(tmp_path)])
    assert str(e.value) == (f"figX: error: the results of figX in {tmp_path} have no 'new_curve': they were made by "
                            "another version of experiments/figX.py; run it again to remake them")

    def interrupted(config, out):
        raise KeyboardInterrupt
    before = (tmp_path / "figX.json").read_bytes()
    with pytest.raises(SystemExit) as e:
        cli.main("figX", interrupted, plot, paper=paper, quick=quick, argv=["--quick", "--out", str(tmp_path)])
    assert str(e.value) == f"figX: interrupted; nothing was saved, and the results in {tmp_path} are as they were"
    assert (tmp_path / "figX.json").read_bytes() == before


# ---- one run id; refused result files; deterministic figures ---------------------------------
def test_json_and_npz_share_one_run_id(tmp_path):
    record = save(tmp_path)
    with np.load(tmp_path / "figX.npz") as f:
        assert str(f[results.RUN_ID]) == record["run_id"]
    assert results.load_results(tmp_path, "figX")[0]["run_id"] == record["run_id"] == \
        results.stored_record(tmp_path, "figX")["run_id"]
    assert save(tmp_path)["run_id"] != record["run_id"]


def _damage(out, how):
    js, npz = out / "figX.json", out / "figX.npz"
    if how == "another figure":
        save(out, figure="figY")
        (out / "figY.json").replace(js)
        (out / "figY.npz").replace(npz)
    elif how == "cut npz":
        npz.write_bytes(npz.read_bytes()[:300])
    elif how == "random npz":
        npz.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif how == "broken json":
        js.write_text(js.read_text()[:-40])
    elif how == "not results json":
        js.write_text("[1, 2]\n")
    elif how == "two runs":
        other = out / "other"
        save(other)
        (other / "figX.npz").replace(npz)
    return js if how in ("another figure", "broken json", "not results json") else npz


HOW = ["another figure", "cut npz", "random npz", "broken json", "not results json", "two runs"]


@pytest.mark.parametrize("how", HOW)
def test_bad_result_files_are_refused_in_one_line(tmp_path, how):
    save(tmp_path)
    bad = _damage(tmp_path, how)
    with pytest.raises(results.ResultsInvalid) as e:
        results.load_results(tmp_path, "figX")
    msg = str(e.value)
    assert bad.name in msg and "\n" not in msg and "again" in msg and "allow_pickle" not in msg
    if how == "another figure":
        assert "holds results of figY, not figX" in msg
    if how == "two runs":
        assert "figX.json (run " in msg and "figX.npz (run " in msg and "different runs" in msg


def test_plot_only_on_bad_files_says_what_to_do(tmp_path):
    from tests import tiny_figure as tiny
    tiny.run(tiny.PAPER, tmp_path)
    (tmp_path / "tiny.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(SystemExit) as e:
        cli.main("tiny", tiny.run, tiny.plot, paper=tiny.PAPER, quick=tiny.QUICK, argv=["--plot-only", "--out", str(tmp_path)])
    assert str(e.value).startswith(f"tiny: error: {tmp_path}/tiny.npz is damaged") and "\n" not in str(e.value)


def test_figures_have_the_run_id_and_the_same_bytes_every_time(tmp_path):
    """--plot-only twice gives byte-identical PNG and PDF (no creation date), with the run id inside."""
    from PIL import Image
    from tests import tiny_figure as tiny
    run_id = tiny.run(tiny.PAPER, tmp_path)["run_id"]
    first = [p.read_bytes() for p in tiny.plot(tmp_path)]
    import time
    time.sleep(1.1)  # a date in the PDF would now differ
    assert [p.read_bytes() for p in tiny.plot(tmp_path)] == first
    assert Image.open(tmp_path / "tiny.png").text["Description"] == f"tiny, results of run {run_id}"
    assert f"tiny, results of run {run_id}".encode() in first[1] and b"CreationDate" not in first[1]


def test_warnings_during_a_run_are_kept_in_the_json(tmp_path):
    """A loss that blows up but stays finite warns; the warning is saved with the results."""
    import warnings
    from hypernet import algorithms
    with results.collect_warnings():
        warnings.warn("validation loss grew from 1 to 1e13", algorithms.BlowUpWarning)
        record = save(tmp_path)
    assert record["warnings"] == ["BlowUpWarning: validation loss grew from 1 to 1e13"]
    assert json.loads((tmp_path / "figX.json").read_text())["warnings"] == record["warnings"]
    assert "warnings" not in save(tmp_path / "clean")  # none raised, none kept


def test_a_title_names_the_config_unless_it_is_paper():
    assert results.unless_paper({"config_name": "PAPER"}) == ""
    assert results.unless_paper({"config_name": "custom"}) == "custom: "


def test_results_record_the_code_at_the_start_not_at_save_time(monkeypatch):
    """A checkout that moves on during a long run (a commit, an edit) does not change what the run records."""
    from experiments.harness import provenance
    provenance.start_state.cache_clear()
    monkeypatch.setattr(provenance, "git_state", lambda: {"git_commit": "a" * 40, "git_dirty": False})
    provenance.start_state()  # cli.main reads it before the run
    monkeypatch.setattr(provenance, "git_state", lambda: {"git_commit": "b" * 40, "git_dirty": True})
    try:
        v = results.versions()
        assert (v["git_commit"], v["git_dirty"]) == ("a" * 40, False)
    finally:
        provenance.start_state.cache_clear()
