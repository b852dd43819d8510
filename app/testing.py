"""What the tests and the benchmarks share: a real gatescope server in a subprocess, and how to launch
Debian's Chromium. Nothing here runs while serving.

    base_url, proc = start_server(model_dir)          # waits until /api/health answers
    ...
    stop_server(proc)

The server binds 127.0.0.1 on a free port, loads models from `model_dir`, and logs to a temporary file
whose tail is shown if it fails to start.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Debian's Chromium, driven by Playwright; these flags keep it from ever fetching anything of its own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_dir: str | os.PathLike, *, workers: int = 1, env: dict[str, str] | None = None,
                 args: list[str] | None = None, timeout: float = 60.0,
                 root: Path = ROOT, files_limit: int | None = None,
                 launcher: list[str] | None = None) -> tuple[str, subprocess.Popen]:
    """Start `python -m app serve` on a free 127.0.0.1 port; return (base_url, process) once healthy.
    `files_limit` lowers the server's limit of open files (RLIMIT_NOFILE), as a small machine would have it.

    `root`: the checkout whose app is served (another one lets a benchmark compare two versions).
    `launcher`: what runs `serve ...` instead of `python -m app` (bench/loop_stalls.py instruments the server).
    Tries three ports: another process may take the free port between our probe and the server's bind.
    """
    for attempt in range(3):
        base, proc, tail = _try_start(model_dir, workers, env, args, timeout, root, files_limit, launcher)
        if proc is not None:
            return base, proc
        if "address already in use" not in tail.lower() or attempt == 2:
            break
    raise RuntimeError(f"gatescope server did not become healthy on {base} within {timeout:.0f} s:\n{tail}")


def _try_start(model_dir, workers, env, args, timeout, root, files_limit,
               launcher) -> tuple[str, subprocess.Popen | None, str]:
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+b", prefix="gatescope-server-", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [*(launcher or [sys.executable, "-m", "app"]), "serve", "--host", "127.0.0.1", "--port", str(port),
           "--models", str(model_dir), "--workers", str(workers), "--log-level", "warning", *(args or [])]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    def limit_files() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (files_limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    proc = subprocess.Popen(cmd, cwd=root, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=limit_files if files_limit else None)
    proc.log_path = log.name  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as r:
                if r.status == 200:
                    return base, proc, ""
        except OSError:
            time.sleep(0.1)
    tail = Path(log.name).read_text(errors="replace")[-3000:]
    stop_server(proc)
    return base, None, tail


def stop_server(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate the server (and its workers) and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log_path = getattr(proc, "log_path", None)
    if log_path:
        Path(log_path).unlink(missing_ok=True)
