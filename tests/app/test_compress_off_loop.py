"""A large export is gzipped off the event loop: /api/health answers while the compression is held mid-way.

The server runs in this process (uvicorn over a real socket, in a thread) so that zlib's compressor can be
replaced by one that stops on its first large piece until health has answered. Were the piece compressed on
the event loop (Starlette's GZip middleware before 1.4 did that), the loop would be stuck in that call and health
could not answer at all: the test then fails on health's timeout, not on a measured time.
"""
from __future__ import annotations

import io
import json
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from app.testing import free_port

LARGE = 128 << 10  # a piece this large is what the GZip middleware hands to a thread (app/main.py)
TEXT = "the quick brown fox jumps over the lazy dog. " * 30  # 1,350 characters: a multi-MB json export


class HeldCompressor:
    """zlib's compressor, except that its first large piece waits for `release` (after setting `started`)."""

    def __init__(self, real, started: threading.Event, release: threading.Event) -> None:
        self.real, self.started, self.release = real, started, release

    def compress(self, data: bytes) -> bytes:
        if len(data) >= LARGE and not self.started.is_set():
            self.started.set()
            assert self.release.wait(60)
        return self.real.compress(data)

    def flush(self, *mode) -> bytes:
        return self.real.flush(*mode)


@pytest.fixture()
def server(model_dir):
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(model_dir=model_dir, max_tokens=2000))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
        for _ in range(200):
            if srv.started:
                break
            threading.Event().wait(0.05)
        yield c
    srv.should_exit = True
    thread.join(30)


@pytest.mark.parametrize("kind", ["json", "npz", "html"])
def test_health_answers_while_a_large_export_is_gzipped(server, monkeypatch, kind):
    """Issue 16: the GZip middleware compressed export answers (json, npz, html) on the event loop."""
    started, release = threading.Event(), threading.Event()
    real = zlib.compressobj
    monkeypatch.setattr(zlib, "compressobj", lambda *a, **k: HeldCompressor(real(*a, **k), started, release))
    body = {"model": "tiny-char", "text": TEXT}
    with ThreadPoolExecutor(1) as pool:
        export = pool.submit(server.post, f"/api/export/{kind}", json=body, headers={"Accept-Encoding": "gzip"},
                             timeout=120)
        try:
            assert started.wait(60), "the export was never compressed in a large piece"
            health = server.get("/api/health", timeout=10)  # a timeout here: the event loop was held
            assert health.status_code == 200 and not export.done()
        finally:
            release.set()
        r = export.result()
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    data = r.content  # as httpx decoded it: the whole file came through the held compressor
    assert len(data) >= LARGE
    if kind == "json":
        assert json.loads(data)["steps"] == len(TEXT)
    elif kind == "npz":
        assert np.load(io.BytesIO(data), allow_pickle=False)["i"].shape[2] == len(TEXT)  # (L, D, T, H)
    else:
        assert data.rstrip().endswith(b"</html>")
