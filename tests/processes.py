"""The process tree as Linux's /proc shows it, for the tests that kill or interrupt real processes."""
import os


def children():
    """{parent pid: [child pids]} of every process."""
    kids = {}
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/stat") as f:
                kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def descendants(pid):
    """Children, grandchildren, ... of `pid`."""
    kids, found, todo = children(), [], [pid]
    while todo:
        new = kids.get(todo.pop(), [])
        found += new
        todo += new
    return found


def alive(pid):
    """Whether `pid` runs (a zombie is dead too)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
