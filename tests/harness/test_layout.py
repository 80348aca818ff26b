"""The layout's rules, read from the source: hypernet/ (the method) imports nothing of what runs the
figures; no module imports a figure or example script; there is no import circle anywhere in the
tree; no module imports another module's private name."""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("hypernet", "experiments", "bench", "docs")
BANNED = ("argparse", "dask", "distributed", "fcntl", "subprocess", "signal", "matplotlib", "multiprocessing",
          "concurrent", "experiments", "threadpoolctl")
SCRIPTS = {p.stem for p in (ROOT / "experiments").glob("*.py") if p.stem != "__init__"}


def module_name(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path):
    """[(imported module, [names])] of a file, relative imports resolved, at any depth (lazy ones too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[:len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            out.append((base, [a.name for a in node.names]))
    return out


def all_files():
    return [p for f in FOLDERS for p in (ROOT / f).rglob("*.py")]


def test_the_method_imports_nothing_of_the_harness():
    for path in (ROOT / "hypernet").rglob("*.py"):
        for mod, _ in imports(path):
            assert mod.split(".")[0] not in BANNED, f"{path.relative_to(ROOT)} imports {mod}"


def test_the_method_is_at_most_2000_lines_without_what_goes_beyond_the_paper():
    lines = sum(len(p.read_text().splitlines()) for p in (ROOT / "hypernet").rglob("*.py") if "beyond" not in p.parts)
    assert lines <= 2000, lines


def test_no_script_imports_another():
    """Figure and example scripts, the harness and the benchmarks import no figure or example
    script (docs/ may: its pages call each figure's claims)."""
    for path in [p for f in ("experiments", "bench") for p in (ROOT / f).rglob("*.py")]:
        for mod, names in imports(path):
            targets = [mod] + [f"{mod}.{n}" for n in names]
            hit = [t for t in targets if t.startswith("experiments.") and t.split(".")[1] in SCRIPTS]
            hit += [t for t in targets if t == "experiments" and set(names) & SCRIPTS]
            hit += [t for t in targets if t.startswith("bench.")]
            assert not hit, f"{path.relative_to(ROOT)} imports the script(s) {hit}"


def test_no_module_imports_a_private_name_of_another():
    for path in all_files():
        for mod, names in imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private or mod == module_name(path), f"{path.relative_to(ROOT)} imports {private} from {mod}"


def test_no_import_circle():
    """Edges between the tree's own modules (a `from package import module` counts as importing the
    module), then a depth-first search for a cycle."""
    files = {module_name(p): p for p in all_files()}
    graph = {}
    for name, path in files.items():
        edges = set()
        for mod, names in imports(path):
            for target in [f"{mod}.{n}" for n in names] + [mod]:
                if target in files and target != name and not name.startswith(target + "."):
                    edges.add(target)
                    break
        graph[name] = edges
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                pytest.fail("import circle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"
    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_layout_rules_can_fail(tmp_path):
    """The import reader sees a banned import, a lazy one and a relative one."""
    p = ROOT / "hypernet" / "_layout_probe_tmp.py"
    p.write_text("def f():\n    import subprocess\nfrom .checks import check_count\n")
    try:
        assert ("subprocess", []) in imports(p) and ("hypernet.checks", ["check_count"]) in imports(p)
    finally:
        p.unlink()
