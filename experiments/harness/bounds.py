"""Settings bounded by what fits: a config whose arrays cannot fit in this machine's memory is
refused before any work, in one line with the estimate (a figure's check_config calls
check_memory), and local worker processes are capped at the cores and the jobs there are."""
import os

GB = 2 ** 30


def memory_bytes():
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(what, n_bytes, fix):
    """ValueError when `what` needs more than this machine's memory: '<what> needs about X GB ...; <fix>'."""
    have = memory_bytes()
    if have is not None and n_bytes > have:
        raise ValueError(f"{what} needs about {n_bytes / GB:,.3g} GB of memory, more than the {have / GB:.3g} GB "
                         f"of this machine; {fix}")


def processes(workers, jobs):
    """How many local worker processes `workers` asks for, at most one per core and per job."""
    return max(1, min(workers, jobs, os.cpu_count() or 1))
