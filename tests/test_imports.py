"""The import graph, read with `ast`: no cycles within lstm_core or app (imports inside functions count,
since they run too), routes never import each other, and benchmarks never import the tests. The page's ES
modules (static/js) have no cycles either."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("lstm_core", "app")


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(*roots: str, base: Path = ROOT) -> dict[str, Path]:
    found = {module_name(p, base): p for r in roots for p in sorted((base / r).rglob("*.py"))}
    assert found, f"no Python files under {roots}"
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of `known` that the file imports, anywhere in it (module level or in a function)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            subs = {f"{base}.{a.name}" for a in node.names} & known  # `from pkg import submodule`
            out |= subs
            if len(subs) < len(node.names):  # some names are attributes of `base` itself
                out.add(base)
    return {m for m in out if m in known and m != name}


def graph(*roots: str, base: Path = ROOT) -> dict[str, set[str]]:
    mods = modules(*roots, base=base)
    return {name: imported(name, path, set(mods)) for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_the_reader_sees_function_level_relative_and_absolute_imports(tmp_path):
    """The checker itself: a cycle hidden in a function body is still a cycle."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for name, text in {"__init__.py": "from .a import f\n", "a.py": "def f():\n    from . import b\n",
                       "b.py": "from .sub.c import g\n", "sub/__init__.py": "", "sub/c.py": "import pkg.a\n",
                       "d.py": "import os\nfrom pkg import b\n"}.items():
        (pkg / name).write_text(text)
    edges = graph("pkg", base=tmp_path)
    assert edges == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.sub.c"}, "pkg.sub": set(),
                     "pkg.sub.c": {"pkg.a"}, "pkg.d": {"pkg.b"}}
    assert find_cycle(edges) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    for root in PACKAGES:
        cycle = find_cycle(graph(root))
        assert cycle is None, f"import cycle in {root}: {' -> '.join(cycle)}"
    cycle = find_cycle(graph(*PACKAGES))
    assert cycle is None, f"import cycle between the packages: {' -> '.join(cycle)}"


# import x from './a.js', import './a.js', export ... from './a.js', import('./a.js'), new Worker('./a.js').
JS_IMPORT = re.compile(r"""(?:\bfrom|\bimport|\bWorker)\s*\(?\s*(?:new URL\()?['"]\./([\w.-]+\.js)['"]""")


def js_graph(directory: Path) -> dict[str, set[str]]:
    """The ES modules of `directory` and the modules of it each one imports (relative imports only)."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.js"))}
    return {name: set(JS_IMPORT.findall(text)) & set(files) for name, text in files.items()}


def test_the_js_reader_sees_every_form_of_import(tmp_path):
    for name, text in {"a.js": "import { x } from './b.js';\n", "b.js": "export { y } from './c.js';",
                       "c.js": "const m = await import('./d.js');", "d.js": "import './a.js';",
                       "e.js": "new Worker(new URL('./f.js', import.meta.url));", "f.js": ""}.items():
        (tmp_path / name).write_text(text)
    edges = js_graph(tmp_path)
    assert edges == {"a.js": {"b.js"}, "b.js": {"c.js"}, "c.js": {"d.js"}, "d.js": {"a.js"}, "e.js": {"f.js"},
                     "f.js": set()}
    assert find_cycle(edges) == ["a.js", "b.js", "c.js", "d.js", "a.js"]


def test_no_import_cycles_in_the_page():
    cycle = find_cycle(js_graph(ROOT / "static" / "js"))
    assert cycle is None, f"import cycle in static/js: {' -> '.join(cycle)}"


def test_routes_do_not_import_each_other():
    edges = graph("app")
    routes = {m for m in edges if m.startswith("app.routes.")}
    offenders = {m: sorted(edges[m] & routes) for m in routes if edges[m] & routes}
    assert not offenders, f"routes share code through app/service.py, never by importing each other: {offenders}"


def test_benchmarks_do_not_import_tests():
    offenders = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "tests"]
    assert not offenders, f"benchmarks import from tests/ (move the helper into the package): {offenders}"
