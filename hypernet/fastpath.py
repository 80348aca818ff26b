"""The one switch between the reference forms and the fast path.

Every function of models.py, hypernets.py and optim.py that has a fast path reads it as

    if fastpath.ENABLED:
        return <the hand-written primitive of ops.py>
    <the formula, in plain autograd.numpy>

Both branches compute the same values and gradients (to rounding; tests/test_fastpath.py checks
1e-12 in float64). The formulas are the ones to read next to the paper; the fast path exists
because autograd's cost per operation is a large part of a small training step (bench/step_cost.py
--reference measures by how much).

The flag is read at each call, so it can be flipped at any time:
    HYPERNET_REFERENCE=1 python ...        reference forms for a whole run (set before import)
    with fastpath.reference(): ...         reference forms inside the block
    fastpath.use_fast(False)               reference forms from here on
"""
import os
from contextlib import contextmanager

ENABLED = os.environ.get("HYPERNET_REFERENCE", "0") in ("", "0")


def use_fast(flag):
    """Use the fast path if flag, the reference forms otherwise; returns the previous setting."""
    global ENABLED
    previous, ENABLED = ENABLED, bool(flag)
    return previous


@contextmanager
def reference():
    """The reference forms inside the block, whatever the setting outside it."""
    previous = use_fast(False)
    try:
        yield
    finally:
        use_fast(previous)


@contextmanager
def fast():
    """The fast path inside the block, whatever the setting outside it."""
    previous = use_fast(True)
    try:
        yield
    finally:
        use_fast(previous)
