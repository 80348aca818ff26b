"""What the figure scripts' `claims(record, seeds_record=None)` share: a metric read by its dotted
name from a results record (`<out>/<figure>.json`) or a seed sweep's summary
(`figures/seeds_<figure>.json`), and one metric per seed.

A claim is plain data (docs/templates/<figure>.py turns it into prose):
    {"claim": "2", "statement": "...", "holds": [bool per unit], "units": [...], "unit": "seed",
     "seeds": [the seeds it was judged on], "rule": "... the tolerance ...", "numbers": {...}}
"""


def _find(x, parts):
    if not parts:
        return True, x
    for k in range(len(parts), 0, -1):  # the longest key first: keys may hold dots themselves
        key = ".".join(parts[:k])
        if isinstance(x, dict) and key in x:
            found, y = _find(x[key], parts[k:])
            if found:
                return True, y
        elif isinstance(x, list) and k == 1 and key.lstrip("-").isdigit() and -len(x) <= int(key) < len(x):
            return _find(x[int(key)], parts[1:])
    return False, None


def lookup(d, dotted):
    """d's value at a dotted name: nested dicts (a record's metrics: "h10.paper.hyper.final_valid") or keys
    that hold dots themselves (a seeds summary's "gp.mean_error", Figure 8's "warm_K200_lr0.0001"), the
    longest key first; list items by index. A missing name is a KeyError naming it."""
    found, x = _find(d, str(dotted).split("."))
    if not found:
        raise KeyError(dotted)
    return x


def has(d, dotted):
    return _find(d, str(dotted).split("."))[0]


def seed_values(record, seeds_record, keys):
    """(seeds, {key: per-seed values}) of a figure's metrics: from the seed sweep's summary when there
    is one (its "completed" seeds, each metric's "values" in their order), else from the one run of
    `record` (its config's seed)."""
    if seeds_record is not None:
        return (list(seeds_record["completed"]),
                {k: list(lookup(seeds_record["metrics"], k)["values"]) for k in keys})
    return [record["config"]["seed"]], {k: [lookup(record["metrics"], k)] for k in keys}


def claim(figure, statement, holds, units, rule, *, unit="seed", seeds=None, **numbers):
    """One claim as plain data; `seeds` defaults to the units when they are seeds."""
    holds = [bool(h) for h in holds]
    return {"claim": figure, "statement": statement, "holds": holds, "units": list(units), "unit": unit,
            "seeds": list(units) if seeds is None else list(seeds), "rule": rule, "numbers": numbers}
