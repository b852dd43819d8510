"""What `python -m app` imports must come from requirements.txt alone (issue 9: threadpoolctl was only a dev dep).

Every import statement in app/ and lstm_core/ is read with `ast`, wherever it sits (module level or inside a
function that serves a request). Each is standard library, our own, or third-party; a third-party module must
belong to a distribution that requirements.txt installs, directly or through the dependencies those declare.
An import inside `try: ... except ImportError` is optional (torch, keras, onnxruntime for verification): it
may come from requirements-dev.txt instead, and the server must work without it (the last test).
"""
from __future__ import annotations

import ast
import importlib.metadata as md
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"app", "lstm_core"}
GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
OPTIONAL_FRAMEWORKS = ("torch", "keras", "onnxruntime", "onnxscript", "numba")  # numba: the optional compiled step


def _guarded(try_node: ast.Try) -> bool:
    for h in try_node.handlers:
        types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        for t in types:
            name = t.id if isinstance(t, ast.Name) else getattr(t, "attr", None) if t is not None else "BaseException"
            if name in GUARDS:
                return True
    return False


def imports(path: Path) -> list[tuple[str, bool, int]]:
    """(top-level module, optional?, line) of every absolute import in one file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        optional, child = False, node
        while child in parent:  # inside the body of a try whose handler catches ImportError (or wider)?
            up = parent[child]
            if isinstance(up, ast.Try) and child in up.body and _guarded(up):
                optional = True
            child = up
        found += [(n.split(".")[0], optional, node.lineno) for n in names]
    return found


def _requirements(path: Path) -> list[Requirement]:
    reqs = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            reqs += _requirements(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            reqs.append(Requirement(line))
    return reqs


def installed_by(path: Path) -> set[str]:
    """Canonical names of the distributions `pip install -r path` brings in (declared dependencies, markers applied)."""
    seen: set[str] = set()
    todo = [(r, "") for r in _requirements(path)]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            deps = md.requires(req.name) or []
        except md.PackageNotFoundError:
            continue  # the walk below reports modules that are not installed at all
        todo += [(Requirement(d), e) for d in deps for e in ("", *req.extras)]
    return seen


def _third_party() -> list[tuple[str, str, bool]]:
    """(module, where, optional) of every third-party import in app/ and lstm_core/."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    out = []
    for pkg in LOCAL:
        files = sorted((ROOT / pkg).rglob("*.py"))
        assert files, f"no Python files under {pkg}/"
        for f in files:
            for mod, optional, line in imports(f):
                if mod not in stdlib and mod not in LOCAL:
                    out.append((mod, f"{f.relative_to(ROOT)}:{line}", optional))
    return out


def test_the_walk_sees_lazy_and_optional_imports():
    """The classifier itself: lazily imported modules are found; try/except ImportError marks them optional."""
    found = {(m, o) for m, _, o in _third_party()}
    assert ("threadpoolctl", False) in found  # app/main.py, module level
    assert ("uvicorn", False) in found  # app/commands/serve.py, inside run()
    assert ("h5py", True) in found and ("torch", True) in found and ("onnxruntime", True) in found


def test_every_runtime_import_is_installed_by_requirements_txt():
    runtime = installed_by(ROOT / "requirements.txt")
    dev = installed_by(ROOT / "requirements-dev.txt")
    owners = md.packages_distributions()
    problems = []
    for mod, where, optional in _third_party():
        dists = {canonicalize_name(d) for d in owners.get(mod, [])}
        if not dists:
            problems.append(f"{where}: {mod} belongs to no installed distribution")
        elif not dists & (dev if optional else runtime):
            need = "requirements-dev.txt (optional import)" if optional else "requirements.txt"
            problems.append(f"{where}: {mod} (from {', '.join(sorted(dists))}) is not installed by {need}")
    assert not problems, "\n".join(problems)


def test_frameworks_are_not_runtime_requirements():
    """torch, keras and onnxruntime are optional verifiers: the server must not need them."""
    runtime = installed_by(ROOT / "requirements.txt")
    assert not runtime & {canonicalize_name(n) for n in OPTIONAL_FRAMEWORKS}


def test_serves_and_imports_without_the_optional_frameworks(tmp_path):
    """With torch, keras and onnxruntime made unimportable, the app serves and an import says 'not verified'."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    save_file({"lstm.weight_ih_l0": rng.standard_normal((8, 3)).astype(np.float32),
               "lstm.weight_hh_l0": rng.standard_normal((8, 2)).astype(np.float32)}, str(tmp_path / "m.safetensors"))
    script = textwrap.dedent(f"""
        import sys, threading
        for name in {OPTIONAL_FRAMEWORKS!r}:
            sys.modules[name] = None  # `import torch` now raises ImportError, as on a machine without it
        from fastapi.testclient import TestClient
        from app.main import create_app
        with TestClient(create_app()) as c:  # GATESCOPE_JIT_WARM=1: the server would warm numba's step at start
            assert not [t for t in threading.enumerate() if t.name == "gatescope-jit-warm"]
            assert c.get("/").status_code == 200
            models = c.get("/api/models").json()["models"]
            r = c.post("/api/trace", json={{"model": models[0]["id"], "text": "hello"}})
            assert r.status_code == 200, r.text
        from lstm_core.importers import import_model
        res = import_model({str(tmp_path / "m.safetensors")!r})
        assert res.verification["verified"] is False and "torch is not installed" in res.verification["reason"]
        print("ok")
    """)
    env = {**os.environ, "GATESCOPE_JIT_WARM": "1"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]

