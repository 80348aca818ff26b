"""`--set NAME=VALUE`: one setting of a figure's Config changed from the command line, checked before
any work. The value is a Python literal (5000, 1e-3, (784, 10), {"h10": 100.0}) or, failing that, a
plain string; it must have the shape of the value it replaces, checked down to every element:

- the same type (an int where a float stood is taken as that float, a list as a tuple);
- a number that is positive in the config stays positive (step sizes, iterations, budgets, sizes;
  not the floats of a mixed tuple below, such as a grid's bounds), and every number is finite; a
  setting the Config names in its MAY_BE_ZERO (a class attribute, e.g. an entropy weight tau or a
  number of series terms, whose 0 is the method without that part) may also be 0;
- a tuple of one kind of element (sizes, step sizes, names) may change its length, each element
  checked against the config's first; a tuple of mixed kinds (a grid (low, high, count), a schedule
  (T, lr, momentum)) keeps its length, each position checked against the config's;
- a dict's values are checked against the config's value under the same key (or its first); in a
  tuple of dicts (records of settings, e.g. ablations), against the value under that key in any of
  the config's dicts, and a key none of them has is left to the figure's check_config;
- a tuple of names, counts or tuples (problems, architectures, seeds) lists each once;
- a nested config cannot be set.

Then the figure's own check_config(config), if it has one, checks what depends on several settings
(experiments/harness/cli.py calls it before any work, --check included). A config changed so is not PAPER or
QUICK but "custom" (results.config_name), so it never writes the committed figures/."""
import ast
import dataclasses
import hashlib
import math
import numbers

from .records import canonical


def tupled(value):
    """Lists, at any depth, as tuples (the configs keep sequences as tuples, hashable and comparable)."""
    if isinstance(value, (list, tuple)):
        return tuple(tupled(v) for v in value)
    if isinstance(value, dict):
        return {k: tupled(v) for k, v in value.items()}
    return value


def _a(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def _short(value, n=60):
    text = repr(value)
    return text if len(text) <= n else text[:n - 1] + "…"


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def shaped(old, new, where, signed=True, zero=False):
    """`new` in the shape of `old` (ints where floats stood made floats), or ValueError saying where
    (`where`: the setting's name, with [i] or [key] for an element) what is wrong. signed=False: a
    float of a mixed tuple (a grid's bounds, a schedule's rates), whose sign its figure checks.
    zero: a positive number may become 0 (not negative)."""
    if dataclasses.is_dataclass(old):
        raise ValueError(f"{where} is a nested config; its fields cannot be set from the command line")
    if isinstance(old, float) and isinstance(new, str) and new.strip().lower() in ("nan", "inf", "-inf", "+inf"):
        raise ValueError(f"{where} is not a finite number")
    if isinstance(old, float) and _is_number(new) and not isinstance(new, float):
        new = float(new)
    if isinstance(new, str):
        new = new.strip()
    if old is None:
        return new
    if type(new) is not type(old):
        raise ValueError(f"{where} takes {_a(type(old).__name__)} ({_short(old)} in the config), "
                         f"not {_a(type(new).__name__)}")
    if _is_number(old):
        if isinstance(new, int) and abs(new) >= 2 ** 63:  # beyond what NumPy and a float take
            raise ValueError(f"{where} is too large ({len(str(abs(new)))} digits); give at most 2**63 - 1")
        if not math.isfinite(new):
            raise ValueError(f"{where} is not a finite number")
        if signed and old > 0 and (new < 0 if zero else new <= 0):
            raise ValueError(f"{where} must stay {'0 or above' if zero else 'positive'} (it is {old!r} in the config)")
    if isinstance(old, tuple) and old:
        if len({type(x) for x in old}) > 1:  # mixed kinds: each position keeps its meaning
            if len(new) != len(old):
                raise ValueError(f"{where} takes {len(old)} elements, as {_short(old)} in the config; got {len(new)}")
            return tuple(shaped(o, n, f"{where}[{i}]", signed=not isinstance(o, float), zero=zero)
                         for i, (o, n) in enumerate(zip(old, new)))
        if isinstance(old[0], dict):  # records of settings, e.g. ablations ({'tangent': True}, {'sigma': 0.3})
            return tuple(_record(old, n, f"{where}[{i}]") for i, n in enumerate(new))
        return tuple(shaped(old[0], n, f"{where}[{i}]", zero=zero) for i, n in enumerate(new))
    if isinstance(old, dict) and old:
        first = next(iter(old.values()))  # a map of one kind of value (budgets by problem): a new key like the first
        return {k: shaped(old.get(k, first), v, f"{where}[{k!r}]", zero=zero) for k, v in new.items()}
    return new


def _record(olds, new, where):
    """A dict of settings in a tuple of such dicts: each value checked against the value under its
    own key in the config's dicts (the first that has it); a key none has is left to the figure's
    check_config, which knows which settings may be changed."""
    if not isinstance(new, dict):
        raise ValueError(f"{where} takes a dict ({_short(olds[0])} in the config), not {_a(type(new).__name__)}")
    known = {}
    for d in olds:
        for k, v in d.items():
            known.setdefault(k, v)
    return {k: shaped(known[k], v, f"{where}[{k!r}]") if k in known else v for k, v in new.items()}


def parse(config, text):
    """(name, value) of one `NAME=VALUE` against `config`; ValueError (one line) naming what is wrong."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    fields = [f.name for f in dataclasses.fields(config)]
    if not sep or not name:
        first = next(f for f in fields if f != "seed")
        raise ValueError(f"--set {text!r}: give NAME=VALUE, e.g. --set {first}={_short(getattr(config, first))}")
    if name == "seed":
        raise ValueError(f"--set {text!r}: the seed has its own flag (--seed, or --seeds of seeds.py)")
    if name not in fields:
        raise ValueError(f"--set {text!r}: {name!r} is not a setting of this figure; its settings: "
                         f"{', '.join(f for f in fields if f != 'seed')}")
    try:
        value = tupled(ast.literal_eval(raw.strip()))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if {"nan", "inf"} & set(raw.lower().replace("(", " ").replace(")", " ").replace(",", " ").split()) \
                and isinstance(getattr(config, name), (tuple, dict)):  # (a single nan: shaped names it)
            raise ValueError(f"--set {text!r}: {name} holds a number that is not finite (nan or inf); "
                             "give finite numbers") from None
        value = raw
    try:
        value = shaped(getattr(config, name), value, name, zero=name in getattr(type(config), "MAY_BE_ZERO", ()))
        check_distinct(value, name)
        return name, value
    except ValueError as e:
        raise ValueError(f"--set {text!r}: {e}") from None


def check_distinct(value, where):
    """A tuple of names, counts or tuples lists runs (problems, architectures, seeds, samples): each
    once. (Floats may repeat: budgets per architecture, a range's bounds.)"""
    if not isinstance(value, tuple) or len({type(x) for x in value}) != 1 or isinstance(value[0], (float, dict)):
        return
    seen = set()
    for x in value:
        try:
            hash(x)
        except TypeError:  # (a tuple holding dicts: its figure checks it)
            return
        if x in seen:
            raise ValueError(f"{where} lists {_short(x)} more than once; give each once")
        seen.add(x)


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
    return "custom_" + hashlib.sha256(canonical([base, sorted(changes.items())]).encode()).hexdigest()[:8]
