"""Settings bounded by what fits: a config whose arrays cannot fit in this machine's memory is
refused before any work, in one line with the estimate (a figure's check_config calls
check_memory), a config's MNIST splits and minibatches must fit MNIST and each other
(check_mnist_sizes), and local worker processes are capped at the cores and the jobs there are."""
import os

from hypernet import checks, data

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


def check_mnist_sizes(config, batches=(("valid_batch", "n_valid"), ("batch", "n_train"))):
    """ValueError (one line) for MNIST split sizes (config.n_train, n_valid, n_test) that MNIST does not
    hold, or a minibatch larger than its split (each (batch field, split field) of `batches` that the
    config has): what the run would refuse only after its first phase, --check refuses at once."""
    if hasattr(config, "n_train") and hasattr(config, "n_valid"):
        data.check_split_sizes(config.n_train, config.n_valid, getattr(config, "n_test", 10000))
    for batch, split in batches:
        b, n = getattr(config, batch, None), getattr(config, split, None)
        if checks.is_count(b) and checks.is_count(n) and b > n:
            raise ValueError(f"{batch}={b} is larger than {split}={n}: a minibatch cannot hold more points than its "
                             f"split; lower {batch} or raise {split} (--set)")


def processes(workers, jobs):
    """How many local worker processes `workers` asks for, at most one per core and per job."""
    return max(1, min(workers, jobs, os.cpu_count() or 1))
