"""What code made a result: the one reader of git in the repository.

code_id() names the code a job is computed by (the job cache's key, the check of every Dask
worker): the git commit of the checkout, "<commit>+<hash>" when hypernet/ or experiments/ have
uncommitted changes (a hash of their .py files), or "source-<hash>" outside a git checkout.
git_state() is what a results JSON records: the commit and whether the checkout was dirty.
"""
import functools
import hashlib
import subprocess

from .folders import ROOT

CODE = ("hypernet", "experiments")  # the folders whose code computes the jobs


def git(*args, timeout=30):
    """git's output (bytes) for this checkout; raises OSError or SubprocessError when there is none."""
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, timeout=timeout, check=True).stdout


def source_hash():
    """sha256 of every .py file under CODE, names and contents."""
    h = hashlib.sha256()
    for path in sorted(p for folder in CODE for p in (ROOT / folder).rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def git_state():
    """{"git_commit", "git_dirty"} of the checkout, or {} outside a git checkout (e.g. an archive)."""
    try:
        # (a file marked assume-unchanged or skip-worktree hides its edits from git status: it counts as
        # changed, so that a job cache never takes its edits for the commit; ls-files -v tags it h or S)
        hidden = [line for line in git("ls-files", "-v", "--", *CODE, timeout=10).decode().splitlines()
                  if line[:1].islower() or line[:1] == "S"]
        return {"git_commit": git("rev-parse", "HEAD", timeout=10).decode().strip(),
                "git_dirty": bool(hidden or git("status", "--porcelain", "--", *CODE, timeout=10).strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


@functools.lru_cache(maxsize=None)
def start_state():
    """git_state() as it was when this process first asked (cli.main asks before a run starts): the
    results record the code that ran, not the checkout at save time, which may move on while a long
    run goes on."""
    return git_state()


@functools.lru_cache(maxsize=None)
def code_id():
    """The git commit of the code, "<commit>+<hash>" when hypernet/ or experiments/ differ from it,
    or "source-<hash>" outside a git checkout. Read once per process (the checkout may move on
    while a long run goes on)."""
    state = git_state()
    if not state:
        return f"source-{source_hash()[:16]}"
    return f"{state['git_commit']}+{source_hash()[:16]}" if state["git_dirty"] else state["git_commit"]
