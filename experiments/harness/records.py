"""The JSON form of what the harness stores: configs, metrics and job keys."""
import dataclasses
import json

import numpy as np


def jsonable(x):
    """numpy scalars/arrays, tuples and dataclasses -> plain JSON types."""
    if dataclasses.is_dataclass(x):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    return x


def canonical(key):
    """The JSON text of a key (a figure's config and job arguments; dataclasses, tuples and NumPy
    values are turned into JSON's types first)."""
    return json.dumps(jsonable(key), sort_keys=True, allow_nan=False)
