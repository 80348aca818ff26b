"""`--set NAME=VALUE`: one setting of a figure's Config changed from the command line, checked before
any work. The value is a Python literal (5000, 1e-3, (784, 10), {"h10": 100.0}) or, failing that, a
plain string; it must have the type of the value it replaces (an int where a float stood is taken as
that float, a list where a tuple stood as that tuple), and a setting that is positive in the config
stays positive (step sizes, iterations, budgets, sizes). A config changed so is not PAPER or QUICK but
"custom" (results.config_name), so it never writes the committed figures/."""
import ast
import dataclasses
import hashlib
import math
import numbers


def tupled(value):
    """Lists, at any depth, as tuples (the configs keep sequences as tuples, hashable and comparable)."""
    if isinstance(value, (list, tuple)):
        return tuple(tupled(v) for v in value)
    if isinstance(value, dict):
        return {k: tupled(v) for k, v in value.items()}
    return value


def _a(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def _number_ok(old, new):
    if isinstance(new, float) and not math.isfinite(new):
        return "is not a finite number"
    if old > 0 and new <= 0:
        return f"must stay positive (it is {old!r} in the config)"
    if old == 0 and new < 0:
        return f"must stay non-negative (it is {old!r} in the config)"
    return None


def parse(config, text):
    """(name, value) of one `NAME=VALUE` against `config`; ValueError (one line) naming what is wrong."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    fields = [f.name for f in dataclasses.fields(config)]
    if not sep or not name:
        first = next(f for f in fields if f != "seed")
        raise ValueError(f"--set {text!r}: give NAME=VALUE, e.g. --set {first}={getattr(config, first)!r}")
    if name == "seed":
        raise ValueError(f"--set {text!r}: the seed has its own flag; use --seed N")
    if name not in fields:
        raise ValueError(f"--set {text!r}: {name!r} is not a setting of this figure; its settings: "
                         f"{', '.join(f for f in fields if f != 'seed')}")
    try:
        value = tupled(ast.literal_eval(raw.strip()))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = raw
    old = getattr(config, name)
    if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if old is not None and type(value) is not type(old):
        raise ValueError(f"--set {text!r}: {name} takes {_a(type(old).__name__)} ({old!r} in the config), "
                         f"not {_a(type(value).__name__)}")
    if isinstance(old, numbers.Real) and not isinstance(old, bool):
        why = _number_ok(old, value)
        if why:
            raise ValueError(f"--set {text!r}: {name} {why}")
    return name, value


def changes(config, texts):
    """{name: value} of every `NAME=VALUE` of `texts`, checked against `config` (a name given twice: refused)."""
    out = {}
    for text in texts:
        name, value = parse(config, text)
        if name in out:
            raise ValueError(f"--set {name} is given more than once; give each setting once")
        out[name] = value
    return out


def folder_name(base, changes):
    """custom_<8 hex digits> of a config `base` ("quick" or "paper") with `changes`: the default
    folder of such runs, another one for other changes."""
    from .jobcache import canonical
    return "custom_" + hashlib.sha256(canonical([base, sorted(changes.items())]).encode()).hexdigest()[:8]
