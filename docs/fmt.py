"""What every page template uses: the results files as read-only data, number formats, Markdown
tables and verdicts counted by a stated rule.

A template never types a result: it reads a key of a results file (`R("fig2_global")["metrics.
cv_argmin_lam"]`) and formats it here. A missing file or key stops the rendering with one line that
names both.
"""
import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np

MINUS = "\u2212"


class RenderError(Exception):
    """A results file or key that a page needs is missing or malformed."""


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
    of docs/render.py (for pages that list the others)."""

    def __init__(self, folder, pages=()):
        self.folder, self.pages, self.used, self._docs = Path(folder), pages, [], {}

    def _mark(self, path):
        rel = f"figures/{path.name}"
        if rel not in self.used:
            self.used.append(rel)

    def has(self, name):
        return (self.folder / f"{name}.json").exists()

    def __call__(self, name):
        path = self.folder / f"{name}.json"
        if name not in self._docs:
            try:
                self._docs[name] = Doc(f"figures/{path.name}", json.loads(path.read_text()))
            except FileNotFoundError:
                raise RenderError(f"{path}: missing; the page needs it (run the figure's script, "
                                  "or restore it with git)") from None
            except json.JSONDecodeError as e:
                raise RenderError(f"{path}: not valid JSON ({e}); restore it with git") from None
        self._mark(path)
        return self._docs[name]

    def npz(self, name):
        path = self.folder / f"{name}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (FileNotFoundError, ValueError, OSError) as e:
            raise RenderError(f"{path}: cannot read it ({e}); the page needs its arrays") from None
        self._mark(path)
        return arrays


# ---- numbers -----------------------------------------------------------------------------------
def num(x, d=3, sign=False):
    """x with d decimals, thousands separators, a true minus sign; '+' in front with sign=True."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
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
    return f"{num(stats['mean'], d, sign)} ± {num(stats['sd'], d)}"


def span(stats, d=3, sign=False):
    """'1.48 … 1.83': min … max of a seeds summary ('1.70 for every seed' when they agree)."""
    lo, hi = num(stats['min'], d, sign), num(stats['max'], d, sign)
    return f"{lo} for every seed" if lo == hi else f"{lo} … {hi}"


def values(xs, d=3, sign=False, sep=" / "):
    return sep.join(num(x, d, sign) for x in xs)


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
        files = f"figures/{name}.json" + (f" or figures/seeds_{name}.json" if sweep is not None else "")
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
