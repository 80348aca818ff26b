"""A figure's files stay one unit when its process is killed, and two runs of a figure never
write one folder at once: tests/tiny_figure.py run as real processes, stopped by real signals."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from checkout import checkout_env
from experiments.harness import results

SCRIPT = Path(__file__).resolve().parents[1] / "tiny_figure.py"
FILES = [f"tiny.{e}" for e in ("json", "npz", "pdf", "png")]


def _default_signals():
    # A shell starts background jobs with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler: give the child the default disposition a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(out, *argv, **env):
    return subprocess.Popen([sys.executable, str(SCRIPT), "--out", str(out), *argv], env=checkout_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)


def tiny(out, *argv, **env):
    p = start(out, *argv, **env)
    stdout, stderr = p.communicate(timeout=120)
    return p.returncode, stdout, stderr


def snapshot(out):
    """The figure's files (a killed process also leaves its lock file and stage, both hidden)."""
    return {p.name: p.read_bytes() for p in sorted(Path(out).iterdir()) if p.is_file() and p.name[0] != "."}


def run_ids(out):
    """The run ids of the json (checked against the npz by load_results), png and pdf."""
    record, _ = results.load_results(out, "tiny")
    png = Image.open(Path(out) / "tiny.png").text["Description"]
    pdf = (Path(out) / "tiny.pdf").read_bytes()
    assert png.endswith(record["run_id"]) and record["run_id"].encode() in pdf
    return record["run_id"]


def wait_for_lock(out, p):
    """Until process p holds the lock of tiny in `out` (it writes its pid into the lock file)."""
    lock = Path(out) / ".tiny.lock"
    for _ in range(600):
        if lock.exists() and lock.read_text().strip() == str(p.pid):
            return
        assert p.poll() is None, p.communicate()
        time.sleep(0.05)
    raise TimeoutError


@pytest.fixture
def done(tmp_path):
    """A folder holding a complete PAPER result of tiny."""
    assert tiny(tmp_path)[0] == 0
    assert sorted(snapshot(tmp_path)) == FILES
    return tmp_path


def test_kill_while_plotting_keeps_the_old_files_and_the_next_run_cleans_up(done):
    before, old_id = snapshot(done), run_ids(done)
    code, _, _ = tiny(done, "--seed", "8", "--force", TINY_KILL="plot")
    assert code == -signal.SIGKILL
    assert snapshot(done) == before  # the new json and npz wait in the stage, not beside the old figure
    assert [p.name for p in done.glob(".tiny.stage-*")]
    code, stdout, _ = tiny(done, "--seed", "8", "--force")
    assert code == 0 and "removed the unfinished files of an interrupted run" in stdout
    assert sorted(os.listdir(done)) == FILES and run_ids(done) != old_id


@pytest.mark.parametrize("k", [1, 2, 4])
def test_kill_between_renames_is_detected_then_finished(done, k):
    """Killed before the k-th of the renames npz, png, pdf, json: load_results refuses the mix, and
    the next --plot-only finishes the renames of the run that was killed."""
    old_id = run_ids(done)
    assert tiny(done, "--seed", "8", "--force", TINY_KILL=str(k))[0] == -signal.SIGKILL
    if k == 1:
        assert run_ids(done) == old_id  # nothing renamed yet
    else:
        with pytest.raises(results.ResultsInvalid) as e:
            results.load_results(done, "tiny")
        msg = str(e.value)
        assert "tiny.json" in msg and "tiny.npz" in msg and "different runs" in msg and "--plot-only" in msg
    code, stdout, stderr = tiny(done, "--plot-only")
    assert code == 0 and "finished the save of an interrupted run" in stdout, stderr
    assert sorted(os.listdir(done)) == FILES
    new_id = run_ids(done)
    assert new_id != old_id and json.loads((done / "tiny.json").read_text())["config"]["seed"] == 8


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_the_run_keeps_the_old_files(done, sig):
    before = snapshot(done)
    p = start(done, "--seed", "8", "--force", TINY_SLEEP="60")
    wait_for_lock(done, p)
    p.send_signal(sig)
    p.communicate(timeout=60)
    assert p.returncode != 0 and snapshot(done) == before
    (done / ".tiny.json.x1y2z3.tmp").write_bytes(b"")  # what a process killed inside atomic_write leaves
    code, stdout, _ = tiny(done, "--plot-only")
    assert code == 0 and sorted(os.listdir(done)) == FILES  # every leftover of tiny is gone
    assert snapshot(done)["tiny.json"] == before["tiny.json"]


def test_a_second_run_into_the_same_folder_is_refused(done, tmp_path_factory):
    first = start(done, "--seed", "8", "--force", TINY_SLEEP="60")
    wait_for_lock(done, first)
    t0 = time.perf_counter()
    code, _, stderr = tiny(done, "--seed", "9", "--force")
    assert code == 1 and time.perf_counter() - t0 < 30
    assert stderr.strip() == (f"tiny: error: another process (pid {first.pid}) is writing tiny into {done}; "
                              "wait for it to finish or choose another --out")
    assert tiny(done, "--plot-only")[0] == 1  # --plot-only would redraw files the run is about to replace
    assert tiny(tmp_path_factory.mktemp("other"), "--quick")[0] == 0  # another folder is free
    first.kill()  # the kernel releases the lock of a process that dies, however it dies
    first.communicate(timeout=60)
    code, _, _ = tiny(done, "--seed", "9", "--force")
    assert code == 0 and json.loads((done / "tiny.json").read_text())["config"]["seed"] == 9
    assert sorted(os.listdir(done)) == FILES


def test_a_removed_lock_file_lets_no_second_run_touch_the_live_one(done):
    """The lock file of a live run removed by hand: the next run gets the lock but finds the live run's
    folder, refuses in one line and leaves it; the live run then saves, and its exit leaves the other's
    lock file alone."""
    before = snapshot(done)
    first = start(done, "--seed", "8", "--force", TINY_SLEEP="60")
    wait_for_lock(done, first)
    deadline = time.monotonic() + 60
    while not (stage := [p for p in Path(done).iterdir() if p.name.startswith(".tiny.stage-")]) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    (Path(done) / ".tiny.lock").unlink()
    code, _, stderr = tiny(done, "--seed", "9", "--force")
    assert code == 1 and stderr.strip() == (
        f"tiny: error: another process (pid {first.pid}) is writing tiny into {done} (its lock file .tiny.lock "
        "was removed meanwhile); wait for it to finish or choose another --out")
    assert stage and all(p.is_dir() for p in stage) and snapshot(done) == before
    first.kill()
    first.communicate(timeout=60)
    code, stdout, _ = tiny(done, "--seed", "9", "--force")  # the dead run's folder is removed as before
    assert code == 0 and "removed the unfinished files of an interrupted run" in stdout
    assert sorted(os.listdir(done)) == FILES


def test_a_lock_is_released_without_removing_a_lock_file_of_another_run(tmp_path):
    from experiments.harness import staging
    with staging.FigureLock(tmp_path, "tiny"):
        (tmp_path / ".tiny.lock").unlink()
        (tmp_path / ".tiny.lock").write_text("12345\n")  # another run's, since
    assert (tmp_path / ".tiny.lock").read_text() == "12345\n"


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_between_renames_waits_for_the_save_and_says_so(done, k, sig):
    """Ctrl-C (or SIGTERM) after some files were renamed into place: the renames finish first, and the
    message does not claim that nothing was saved."""
    old_id = run_ids(done)
    code, stdout, stderr = tiny(done, "--seed", "8", "--force", TINY_KILL=str(k), TINY_SIGNAL=sig)
    assert code != 0 and "nothing was saved" not in stderr
    if sig == "SIGINT":
        assert stderr.strip() == (f"tiny: interrupted after the save had begun; it was finished: the new results "
                                  f"are in {done}")
    assert sorted(snapshot(done)) == FILES and not list(done.glob(".tiny.stage-*"))  # nothing left to finish
    new_id = run_ids(done)  # json, npz, png and pdf of one run
    assert new_id != old_id and json.loads((done / "tiny.json").read_text())["config"]["seed"] == 8


def _file_size_limit(nbytes):
    def limit():
        import resource
        _default_signals()
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


def test_a_full_disk_is_one_line_and_keeps_the_old_files(done):
    """Writes beyond a file-size limit fail as on a full disk (EFBIG instead of ENOSPC: the same path)."""
    before = snapshot(done)
    p = subprocess.Popen([sys.executable, str(SCRIPT), "--out", str(done), "--seed", "8", "--force"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_file_size_limit(2000))
    _, stderr = p.communicate(timeout=120)
    assert p.returncode == 1 and "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"tiny: error: {done}") and "File too large" in stderr
    assert stderr.rstrip().endswith(f"nothing was saved, and the results in {done} are as they were")
    assert snapshot(done) == before


def test_a_stage_of_a_run_that_ended_unreaped_is_cleaned_up(tmp_path):
    """The owner of a stage folder died and nobody has reaped it yet (a zombie: its parent was killed, as
    run_all.sh's driver by SIGKILL): it has ended, so the next run removes its folder instead of waiting."""
    from experiments.harness import staging
    stage = tmp_path / ".tiny.stage-20260101T000000Z-abcdef"
    stage.mkdir()
    pid = os.fork()
    if pid == 0:  # the run: writes who it is into its folder, then ends
        (stage / staging.OWNER).write_text(staging._me())
        os._exit(0)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (stage / staging.OWNER).exists():
            time.sleep(0.01)
        time.sleep(0.2)
        assert open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"  # ended, not reaped
        assert staging.recover(tmp_path, "tiny") == [f"removed the unfinished files of an interrupted run ({stage.name})"]
        assert not stage.exists()
    finally:
        os.waitpid(pid, 0)
