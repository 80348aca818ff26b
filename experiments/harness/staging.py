"""A figure's files on disk as one unit: <out>/<figure>.npz, .json, .png and .pdf.

A run writes all four into a staging folder <out>/.<figure>.stage-<id>/, writes the file
COMMITTED there (the point of no return), then renames them into <out>, the JSON last. Killed
before COMMITTED, a run leaves the old files as they were; killed after, the next run of that
figure (or --plot-only) finishes the renames; Ctrl-C or SIGTERM during the renames waits for them
to end (a few milliseconds). json and npz carry one run id (results.py checks it on load), so a
reader never takes the halves of two runs for one result. One process at a time writes a figure
into a folder: FigureLock.
"""
import contextlib
import errno
import fcntl
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

ORDER = ("npz", "png", "pdf", "json")  # the JSON, which says what the result is, goes last
MARK = "COMMITTED"
OWNER = "OWNER"  # in a stage folder: '<pid> <start time>' of the run that writes it


class OutputError(RuntimeError):
    """The output folder cannot take this run's results (unwritable, busy, or holds what must stay)."""


def new_run_id():
    """A fresh id, sortable by time: UTC time and 6 random hex digits, e.g. 20260101T120000Z-1a2b3c."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def atomic_write(path, write):
    """Call write(tmp_path) on a temporary file .<name>.*.tmp beside `path`, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; results are for everyone
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def final_folder(folder):
    """The folder a run's files end up in, with symlinks and `..` resolved: `folder` itself, or
    the folder a staging folder .<figure>.stage-<id>/ is renamed into."""
    path = Path(os.path.realpath(folder))
    return path.parent if path.name.startswith(".") and ".stage-" in path.name else path


def new_folder(out):
    """The outermost folder of `out` that does not exist yet (`out` itself, or a parent that a run
    making `out` creates too), so that a run that leaves it empty removes all it made; None when `out`
    exists, or for a path the system cannot even look up (a name too long)."""
    out = Path(os.path.abspath(out))
    try:
        if out.exists():
            return None
    except OSError:
        return None
    top = out
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    return top


def remove_if_left_empty(out, made):
    """Remove `out`, and each parent up to `made` (new_folder before the run), that this run made and
    left empty."""
    if not made:
        return
    folder, made = Path(os.path.abspath(out)), Path(made)
    while folder.is_dir() and not any(folder.iterdir()):
        os.rmdir(folder)
        if folder == made:
            break
        folder = folder.parent


def check_folder(out, figure):
    """Create `out` if needed, write and remove a probe file in it, and check that the figure's
    files and lock there are files (not folders), so that a bad --out fails in a second, not after
    the whole computation."""
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"--out {out} is a file, not a folder; choose a folder")
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=f".{figure}.probe-", suffix=".tmp")
        os.write(fd, b"probe")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        why = "the name is too long" if e.errno == errno.ENAMETOOLONG else e.strerror or str(e)
        raise OutputError(f"--out {out}: cannot write there ({why}); choose a writable folder") from None
    for name in [f".{figure}.lock"] + [f"{figure}.{ext}" for ext in ORDER]:
        if (out / name).is_dir() or ((out / name).exists() and not (out / name).is_file()):
            raise OutputError(f"{out / name} is a folder (or another non-file), where {figure} keeps a file; "
                              "move it away or choose another --out")


class FigureLock:
    """An exclusive flock on <out>/.<figure>.lock while this process writes the figure. The kernel
    drops it when the process dies, however it dies, so a killed run never blocks the next one."""

    def __init__(self, out, figure):
        self.path, self.figure, self.out = Path(out) / f".{figure}.lock", figure, out

    STALE_WAIT_S = 10.0  # how long a lock whose holder has died may take to be released

    def __enter__(self):
        deadline = time.monotonic() + self.STALE_WAIT_S
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
                os.close(fd)
                dead = not _alive(holder)
                if dead and time.monotonic() < deadline:
                    # The holder died; the processes it forked (which share its open lock file) are
                    # being killed with it and release the lock in a moment.
                    time.sleep(0.1)
                    continue
                who = f"pid {holder}" + (", which has ended, through a process it started" if dead else "")
                raise OutputError(f"another process ({who}) is writing {self.figure} into {self.out}; "
                                  "wait for it to finish or choose another --out") from None
            try:  # the holder may have removed the file between our open and our lock: lock the new one
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc):
        try:  # while still locked, so nobody holds a lock on a removed file for long; but not another
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:  # run's file, if ours was removed
                os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self.fd)


def _me():
    """This process as '<pid> <start time>': a pid that a later process reuses names another process."""
    return f"{os.getpid()} {_started(os.getpid())}"


def _stat(pid):
    """The fields of /proc/<pid>/stat after the command name (state first), or None where unreadable."""
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().rsplit(")", 1)[1].split() or None
    except (OSError, ValueError, IndexError):
        return None


def _started(pid):
    """The start time of process `pid`, or "?" when it has ended (a zombie, whose parent died without
    reaping it, keeps its entry in /proc: it counts as ended)."""
    fields = _stat(pid)
    return "?" if fields is None or len(fields) < 20 or fields[0] in ("Z", "X") else fields[19]


def _owner_alive(stage):
    """The pid of the live process (not this one) that owns a stage folder, or None."""
    try:
        pid, started = (stage / OWNER).read_text().split()
    except (OSError, ValueError):
        return None
    return pid if int(pid) != os.getpid() and started != "?" and _started(pid) == started else None


def _alive(pid):
    """Whether the process `pid` (a string read from a lock file) exists and is not a zombie."""
    fields = _stat(pid)
    if fields is None:
        return not pid.strip().isdigit() or not os.path.isdir("/proc")  # unknown: assume it lives
    return fields[0] != "Z"


class Stage:
    """<out>/.<figure>.stage-<id>/: where a run writes its files; commit() moves them into <out>.
    Leaving the `with` block without commit() removes the folder and everything in it. `state` is
    "staged" until commit() starts, then "committing", then "committed"."""

    def __init__(self, out, figure):
        self.out, self.figure, self.state = Path(out), figure, "staged"
        self.dir = self.out / f".{figure}.stage-{new_run_id()}"

    def __enter__(self):
        self.dir.mkdir()
        (self.dir / OWNER).write_text(_me())  # recover() leaves a live run's folder alone
        return self

    def __exit__(self, *exc):
        if not (self.dir / MARK).exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def link(self, *exts):
        """Hard-link (or copy) existing <out>/<figure>.<ext> into the stage, for --plot-only."""
        for ext in exts:
            src, dst = self.out / f"{self.figure}.{ext}", self.dir / f"{self.figure}.{ext}"
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

    def commit(self):
        """Rename the staged files into <out>, JSON last; returns their new paths. SIGINT and
        SIGTERM arriving meanwhile take effect once all are renamed (state "committed")."""
        names = [f"{self.figure}.{ext}" for ext in ORDER if (self.dir / f"{self.figure}.{ext}").exists()]
        with signals_deferred():
            atomic_write(self.dir / MARK, lambda tmp: Path(tmp).write_text("\n".join(names) + "\n"))
            self.state = "committing"
            finish(self.dir, self.out)
            self.state = "committed"
        return [self.out / n for n in names]


@contextlib.contextmanager
def signals_deferred(signums=(signal.SIGINT, signal.SIGTERM)):
    """Hold SIGINT and SIGTERM back inside the block, then act on them as they would have acted
    (in the main thread only: elsewhere Python cannot change the handlers, and does not need to)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    old = {s: signal.signal(s, lambda signum, frame: caught.append(signum))
           for s in signums if signal.getsignal(s) is not None}  # None: a handler Python did not install
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(caught):
            if callable(old[s]):
                old[s](s, None)
            elif old[s] == signal.SIG_DFL:
                os.kill(os.getpid(), s)  # the default action (SIGINT's is Python's own handler)


def finish(stage, out):
    """Rename what is left of a committed stage into `out`, in the order COMMITTED lists, and remove it."""
    for name in (stage / MARK).read_text().split():
        if (stage / name).exists():
            os.replace(stage / name, Path(out) / name)
    shutil.rmtree(stage)


def recover(out, figure):
    """Under the figure's lock, before anything else: finish the renames of a run killed after it
    committed, remove the stages of runs killed before, and stray temporary files of this figure.
    Returns a list of what was done, one line each."""
    done, stages = [], sorted(Path(out).glob(f".{figure}.stage-*"))  # stage ids sort by time
    live = [(p, pid) for p in stages if (pid := _owner_alive(p))]
    if live:  # its lock file was removed under it: a live run is writing there
        raise OutputError(f"another process (pid {live[0][1]}) is writing {figure} into {out} (its lock file "
                          f".{figure}.lock was removed meanwhile); wait for it to finish or choose another --out")
    for p in sorted(Path(out).glob(f".{figure}.*")):  # the newest stage lands last
        if p.is_dir() and p.name.startswith(f".{figure}.stage-"):
            if (p / MARK).exists():
                finish(p, out)
                done.append(f"finished the save of an interrupted run ({p.name})")
            else:
                shutil.rmtree(p, ignore_errors=True)
                done.append(f"removed the unfinished files of an interrupted run ({p.name})")
        elif p.name.endswith(".tmp") and p.is_file():
            p.unlink()
            done.append(f"removed a stray temporary file ({p.name})")
    return done
