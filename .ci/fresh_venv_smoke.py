"""CI: the README's first command on a fresh machine. Standard library only: it runs before anything is installed.

    python3 .ci/fresh_venv_smoke.py            # new venv, pip install -r requirements.txt, start, ask, stop
    python3 .ci/fresh_venv_smoke.py --python X # skip the venv: check the server X starts (used by the tests)

It creates a virtual environment in a temporary directory, installs requirements.txt (and nothing else) into
it, starts `python -m app` from it on a free port and checks that `/`, `/api/models` and one `POST
/api/trace` answer 200. Any failure (pip, a missing import, a port that never opens, a non-200 answer)
exits non-zero with the server's log, so a runtime dependency missing from requirements.txt fails CI.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_venv(where: Path) -> Path:
    """A new venv with only requirements.txt installed; returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements.txt")], check=True,
                   timeout=1200)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def smoke(python: Path, timeout: float = 120.0) -> None:
    """Start `python -m app` from `python` in the project folder, check three answers, stop it."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in the finally below, after the server stops)
    # Outside the source tree's environment: no PYTHONPATH, so only what the venv installed is importable.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.Popen([str(python), "-m", "app", "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"`python -m app` exited with code {proc.returncode} before answering")
            if time.monotonic() > deadline:
                raise RuntimeError(f"`python -m app` did not open port {port} within {timeout:.0f} s")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        status, page = request(base + "/")
        check("GET /", status, page)
        status, raw = request(base + "/api/models")
        check("GET /api/models", status, raw)
        models = json.loads(raw)["models"]
        if not models:
            raise RuntimeError("GET /api/models lists no model: models/ should ship some")
        status, raw = request(base + "/api/trace", {"model": models[0]["id"], "text": "To be, or not to be"})
        check(f"POST /api/trace ({models[0]['id']})", status, raw)
        print(f"fresh venv: {python} served /, /api/models ({len(models)} models) and /api/trace: 200 each")
    except Exception:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-4000:])
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def check(what: str, status: int, body: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"{what} answered {status}: {body[:300]!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", type=Path, help="use this interpreter instead of building a fresh venv")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the port to open")
    args = ap.parse_args()
    if args.python:
        smoke(args.python, args.timeout)
        return 0
    with tempfile.TemporaryDirectory(prefix="gatescope-venv-") as tmp:
        smoke(fresh_venv(Path(tmp) / "venv"), args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
