"""What every page template uses: the results files as read-only data, number formats, Markdown
tables and verdicts counted by a stated rule.

A template never types a result: it reads a key of a results file (`R("fig2_global")["metrics.
cv_argmin_lam"]`) and formats it here. A missing, unreadable or misplaced file, a missing key, or a
value that is not a number where the page needs one stops the rendering with one line that names them.
"""
import copy
import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np

from experiments.harness import results as harness_results

MINUS = "\u2212"
ROOT = Path(__file__).resolve().parents[1]


class RenderError(Exception):
    """A results file or key that a page needs is missing or malformed."""


# ---- the results files, read-only and with each value read that is not a number noted -----------------
class _Reads:
    """What a rendering read: `odd`, the (file name, key path, value) of each value read that is not a
    number (a string, null, true or false, an array or an object), in order, and `steps`, how many
    values were read at all (how far the rendering got)."""

    def __init__(self):
        self.odd, self.steps = [], 0

    def note(self, name, path, value):
        self.steps += 1
        if not _is_number(value):  # arrays and objects too: a page may need a number where one stands
            self.odd.append((name, path, value))
        if isinstance(value, _List):  # a list is often taken whole (numpy): its items count as read
            self.odd += [(name, path + (i,), v) for i, v in enumerate(list.__iter__(value))
                         if not _is_number(v) and not isinstance(v, (list, dict))]


def _is_number(x):
    """A JSON number (not true or false, which Python would take as 1 and 0)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def describe(value):
    """A JSON value that is not a number, as a line names it: null, the string 'x', true, an array of 3."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return f"an object of {len(value)} key{'s' * (len(value) != 1)}" if isinstance(value, dict) else repr(value)


class _Dict(dict):
    """A JSON object that notes the values read from it (Results.wrong_value)."""

    def __init__(self, items, reads, name, path):
        super().__init__(items)
        self._reads, self._name, self._path = reads, name, path

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        self._reads.note(self._name, self._path + (key,), value)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def values(self):
        for key in self:
            self[key]
        return dict.values(self)

    def items(self):
        self.values()
        return dict.items(self)


class _List(list):
    """A JSON array that notes the values read from it."""

    def __init__(self, items, reads, name, path):
        super().__init__(items)
        self._reads, self._name, self._path = reads, name, path

    def __getitem__(self, i):
        value = list.__getitem__(self, i)
        if isinstance(i, slice):
            for k in range(*i.indices(len(self))):
                self._reads.note(self._name, self._path + (k,), list.__getitem__(self, k))
        else:
            self._reads.note(self._name, self._path + (i % len(self) if i < 0 else i,), value)
        return value

    def __iter__(self):
        for i, value in enumerate(list.__iter__(self)):
            self._reads.note(self._name, self._path + (i,), value)
            yield value


def _noted(x, reads, name, path=()):
    """The parsed JSON x as _Dict and _List, which note what is read from them into `reads`."""
    if isinstance(x, dict):
        return _Dict({k: _noted(v, reads, name, path + (k,)) for k, v in x.items()}, reads, name, path)
    if isinstance(x, list):
        return _List([_noted(v, reads, name, path + (i,)) for i, v in enumerate(x)], reads, name, path)
    return x


def dotted(path):
    """A key path as the templates spell it: ("metrics", "h10", 2) -> 'metrics.h10.2'."""
    return ".".join(map(str, path))


class Doc:
    """One results JSON, or a part of it: doc["metrics.alg3_final_lam"] reads a dotted key (a key that
    itself holds dots, such as a seeds file's "gp.mean_error", matches whole; list items by index).
    Dicts come back as Docs, so a missing key anywhere names the file."""

    def __init__(self, path, data, where=""):
        self.path, self.data, self.where = path, data, where

    def _find(self, x, parts):
        if not parts:
            return True, x
        for k in range(len(parts), 0, -1):  # the longest key first
            key = ".".join(parts[:k])
            if isinstance(x, dict) and key in x:
                found, y = self._find(x[key], parts[k:])
                if found:
                    return True, y
            elif isinstance(x, list) and k == 1 and key.lstrip("-").isdigit() and -len(x) <= int(key) < len(x):
                return self._find(x[int(key)], parts[1:])
        return False, None

    def __getitem__(self, dotted):
        found, x = self._find(self.data, str(dotted).split("."))
        if not found:
            raise RenderError(f"{self.path}: no key {self.where + str(dotted)!r} (needed by the page)")
        return Doc(self.path, x, f"{self.where}{dotted}.") if isinstance(x, dict) else x

    def __contains__(self, dotted):
        return self._find(self.data, str(dotted).split("."))[0]

    def get(self, dotted, default=None):
        return self[dotted] if dotted in self else default

    def keys(self):
        return self.data.keys()


class Results:
    """The results folder (figures/ by default). R(name) loads <name>.json once; R.npz(name) the
    arrays beside it. `used` collects the files read, for the page's header; `pages` is the registry
    of docs/render.py (for pages that list the others). With paper_only (default: when the folder is
    the committed figures/), a results file of a figure that is not the PAPER run with its default
    seed (results.is_committed_run) is refused."""

    def __init__(self, folder, pages=(), paper_only=None):
        self.folder, self.pages, self.used, self._docs = Path(folder), pages, [], {}
        self.committed = harness_results.is_committed(self.folder)
        self.paper_only = self.committed if paper_only is None else paper_only
        self.reads, self._parsed = _Reads(), {}

    def _mark(self, path):
        rel = f"figures/{path.name}"
        if rel not in self.used:
            self.used.append(rel)

    def has(self, name):
        return (self.folder / f"{name}.json").exists()

    def shown(self, path):
        """A file of the folder as messages name it: relative to the repository when it is in it."""
        try:
            return str(Path(path).resolve().relative_to(ROOT))
        except ValueError:
            return str(path)

    def remedy(self, name):
        """What to do about a bad <name>.json."""
        if self.committed:
            return f"restore it with `git checkout -- figures/{name}.json`"
        return "replace it with the results file its script wrote, or render from the committed figures/"

    def __call__(self, name):
        if name not in self._docs:
            if name not in self._parsed:
                self._parsed[name] = self._load(name)
            self._docs[name] = Doc(self.shown(self.folder / f"{name}.json"),
                                   _noted(self._parsed[name], self.reads, name))
        self._mark(self.folder / f"{name}.json")
        return self._docs[name]

    def _load(self, name):
        """<name>.json parsed, or RenderError in one line: missing, a folder, not UTF-8, not JSON, not
        an object, or (paper_only) not the committed PAPER run."""
        path = self.folder / f"{name}.json"
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise RenderError(f"{path}: missing; the page needs it (run the figure's script, "
                              "or restore it with git)") from None
        except IsADirectoryError:
            raise RenderError(f"{path}: is a folder, not a results file; {self.remedy(name)}") from None
        except OSError as e:
            raise RenderError(f"{path}: cannot be read ({e.strerror or e}); {self.remedy(name)}") from None
        except UnicodeDecodeError as e:
            raise RenderError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}), so not "
                              f"a results file; {self.remedy(name)}") from None
        except json.JSONDecodeError as e:
            raise RenderError(f"{path}: not valid JSON ({e}); {self.remedy(name)}") from None
        if not isinstance(data, dict):
            raise RenderError(f"{path}: not a results file (a JSON {type(data).__name__}, not an object of keys); "
                              f"{self.remedy(name)}")
        if self.paper_only and "config_name" in data:
            self._check_paper(path, name, data)
        return data

    def _check_paper(self, path, name, data):
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
        sweep = isinstance(data.get("seeds"), list)
        seed = data["seeds"] if sweep else config.get("seed")
        if harness_results.is_committed_run(data["config_name"], seed):
            return
        figure = data.get("figure") if isinstance(data.get("figure"), str) else name.removeprefix("seeds_")
        what = (f"a {data['config_name']} sweep (seeds {' '.join(map(str, seed))})" if sweep else
                f"a {data['config_name']} result (seed {seed})")
        rerun = (f"`python -m experiments.harness.seeds {figure} --seeds 7 8 9 10 11` (the PAPER sweep)" if sweep else
                 f"`python experiments/{figure}.py` (the PAPER config)")
        if self.committed:
            raise RenderError(f"{path} holds {what}, but figures/ holds only PAPER results with the default "
                              f"seed: move it away (e.g. into runs/) or rerun {rerun} to replace it")
        raise RenderError(f"{path} holds {what}; the committed docs/ and README.md are rendered only from PAPER "
                          f"results with the default seed: render it elsewhere with --out DIR, or rerun {rerun}")

    def npz(self, name):
        path = self.folder / f"{name}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (FileNotFoundError, ValueError, OSError) as e:
            raise RenderError(f"{path}: cannot read it ({e}); the page needs its arrays") from None
        self._mark(path)
        return arrays

    def replaced(self, name, path, value):
        """These results with the value at `path` of <name>.json replaced (a fresh read log)."""
        other = Results(self.folder, self.pages, self.paper_only)
        other._parsed = dict(self._parsed)
        data = other._parsed[name] = copy.deepcopy(self._parsed[name])
        for k in path[:-1]:
            data = data[k]
        data[path[-1]] = value
        return other

    def wrong_value(self, unit, error, start=(0, 0), tries=40):
        """After unit(self) failed with `error` (a TypeError, ValueError, ...): the value, not a number, it read
        that caused it, as (file, dotted key, value), or None. `start`: (reads.steps, len(reads.odd))
        before unit began. A value read is the cause when unit, run again with that value made a number,
        gets past the point where it failed: it ends, or fails after more values read, or after as many
        with another error. The most recent reads are tried first, at most `tries` of them."""
        where = _origin(error)
        steps, seen = self.reads.steps - start[0], set()
        for name, path, value in reversed(self.reads.odd[start[1]:]):
            if (name, path) in seen or len(seen) >= tries:
                continue
            seen.add((name, path))
            other = self.replaced(name, path, 1.0)
            try:
                unit(other)
            except Exception as e:  # noqa: BLE001 (another failure, further on, also means this value was it)
                same = (type(e), str(e), _origin(e)) == (type(error), str(error), where)
                if other.reads.steps < steps or (same and other.reads.steps == steps):
                    continue
            return self.shown(self.folder / f"{name}.json"), dotted(path), value
        return None


def _origin(error):
    """Where an exception was raised: (file, line) of its innermost frame."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else None


# ---- numbers -----------------------------------------------------------------------------------
def num(x, d=3, sign=False):
    """x with d decimals, thousands separators, a true minus sign; '+' in front with sign=True; NaN is
    'n/a'. A string or None is a TypeError: a page that expects a missing value says so itself (as
    mean_sd, span and values do for a metric that some seeds lack)."""
    if not isinstance(x, (int, float, np.number)) or isinstance(x, (bool, np.bool_)):
        raise TypeError(f"num() needs a number, not {x!r}")
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    s = f"{x:+,.{d}f}" if sign else f"{x:,.{d}f}"
    if float(s.replace(",", "")) == 0:  # no "-0.000"
        s = s.replace("-", "+" if sign else "")
    return s.replace("-", MINUS)


def sig(x, n=2):
    """x with n significant digits, e.g. 5.0e-04 -> '5.0e−4', 0.0397 -> '0.040'."""
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        d = max(0, n - 1 - int(math.floor(math.log10(abs(x)))))
        return num(x, d)
    mant, exp = f"{x:.{n - 1}e}".split("e")
    return f"{mant}e{int(exp)}".replace("-", MINUS)


def sci(x):
    """A step size or variance as the papers write it: 0.0001 -> '1e-4', 3e-05 -> '3e-5', 0.3 -> '0.3'."""
    if x >= 0.1:
        return f"{x:g}"
    mant, exp = f"{x:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def count(n):
    """An integer with thousands separators."""
    return f"{int(round(n)):,}"


def pct(x, d=1, sign=False):
    return num(100 * x, d, sign) + "%"


def secs(s):
    """'0.1 s', '45 s', '9 min 50 s', '4 h 35 min'."""
    if s < 10:
        return f"{num(s, 1)} s"
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    m = round(s / 60)  # whole minutes first, so 7,190 s is 2 h 0 min, not 1 h 60 min
    return f"{m // 60} h {m % 60} min"


def mean_sd(stats, d=3, sign=False):
    """'1.66 ± 0.14' from a summary {"mean", "sd", ...} of a seeds file."""
    return f"{maybe(stats['mean'], d, sign)} ± {maybe(stats['sd'], d)}"


def span(stats, d=3, sign=False):
    """'1.48 … 1.83': min … max of a seeds summary ('1.70 for every seed' when they agree)."""
    lo, hi = maybe(stats['min'], d, sign), maybe(stats['max'], d, sign)
    return f"{lo} for every seed" if lo == hi else f"{lo} … {hi}"


def values(xs, d=3, sign=False, sep=" / "):
    """Per-seed values; 'n/a' for a seed without one (None)."""
    return sep.join(maybe(x, d, sign) for x in xs)


def maybe(x, d=3, sign=False):
    """num(x), or 'n/a' for None: a summary over seeds of a metric no seed has (results.stats)."""
    return "n/a" if x is None else num(x, d, sign)


def per_seed(S, key):
    """The per-seed values of one metric of a seeds file, in the order of S["completed"]."""
    return S[f"metrics.{key}.values"]


def small(x, d=3):
    """d decimals, or as many as the first nonzero digit needs when |x| < 10^-d: 0.036, -0.00003."""
    if x != 0 and abs(x) < 10 ** -d:
        d = -int(math.floor(math.log10(abs(x))))
    return num(x, d)


def seeds_phrase(seeds):
    """'seed 10', 'seeds 8, 10', 'seeds 7-11', 'no seed'."""
    if not seeds:
        return "no seed"
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seed_list(seeds)}"


def seed_list(seeds):
    """[7, 8, 9, 10, 11] -> '7-11'; [8, 10] -> '8, 10'."""
    seeds = sorted(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


# ---- Markdown ----------------------------------------------------------------------------------
def cell(x):
    """A table cell's text: a '|' inside it (as in p(λ | λ̂)) escaped, so that it does not end the cell."""
    return re.sub(r"(?<!\\)\|", r"\\|", str(x))


def table(header, rows):
    """A Markdown table; cells are strings already formatted."""
    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def bullets(items):
    return "\n".join(f"- {i}" for i in items)


# ---- verdicts ----------------------------------------------------------------------------------
@dataclasses.dataclass
class Verdict:
    """Whether a claim holds on each unit (a seed, a model, a problem), by the rule in `rule`."""
    holds: list
    units: list
    unit: str = "seed"
    rule: str = ""

    @property
    def k(self):
        return sum(bool(h) for h in self.holds)

    def which(self, holding=True):
        return [u for u, h in zip(self.units, self.holds) if bool(h) == holding]

    def word(self):
        """'holds', 'does not hold' or 'in part' (some units)."""
        return "holds" if self.k == len(self.holds) else "does not hold" if self.k == 0 else "in part"

    def text(self):
        """'holds', 'holds for all 5 seeds', '1 of 3 models', 'does not hold (0 of 2 problems)'."""
        n = len(self.holds)
        if n == 1:
            return self.word()
        if self.k == n:
            return f"holds for all {n} {self.unit}s"
        if self.k == 0:
            return f"does not hold (0 of {n} {self.unit}s)"
        return f"holds for {self.k} of {n} {self.unit}s"


def verdict_of(claim):
    """The Verdict of one claim as a figure script's claims() returns it (plain data: holds, units,
    unit, rule; experiments/common/verdicts.py)."""
    return Verdict(claim["holds"], claim["units"], claim["unit"], claim["rule"])


def claims_of(script, R, name, seeds=True, **kw):
    """script.claims(record, seeds_record, **kw) (experiments/<name>.py's rules) on the results files:
    figures/<name>.json and, with seeds, figures/seeds_<name>.json when there is one. A key the rules
    need and do not find stops the rendering with one line that names the files and the key."""
    record = R(name).data
    sweep = R(f"seeds_{name}").data if seeds and R.has(f"seeds_{name}") else None
    try:
        return script.claims(record, sweep, **kw)
    except KeyError as e:
        files = R(name).path + (f" or {R(f'seeds_{name}').path}" if sweep is not None else "")
        raise RenderError(f"{files}: no key {e.args[0]!r} (needed by the claims of experiments/{name}.py)") from None


@dataclasses.dataclass
class Claim:
    """One row of the README's "what reproduces": the paper's claim, its verdict, a few numbers."""
    figure: str
    claim: str
    numbers: str
    verdict: Verdict
    seeds: str


def claims_table(rows, link):
    """The README's rows: rows is [(page name, Claim)], link(page) its relative path."""
    body = [(f"[{c.figure}]({link(page)})", c.claim, c.numbers, f"**{c.verdict.text()}**", c.seeds)
            for page, c in rows]
    return table(("figure", "claim", "ours (the PAPER run; over seeds: mean (min … max))", "verdict",
                  "holds on seeds"), body)


def verdict_table(claims):
    """A page's own list of its claims, verdicts and the rules that decide them."""
    rows = [(c.claim, f"**{c.verdict.text()}**", c.verdict.rule) for c in claims]
    return table(("claim", "verdict", "rule (computed from the results files)"), rows)
