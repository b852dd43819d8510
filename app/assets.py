"""/static/...: the page's own files (static/: ES modules, CSS, message catalogs), answered from memory.

A cold load asks for about 75 of them at once (the shell names the whole module graph as modulepreload). Starlette's
StaticFiles opens, reads and stats each file in worker threads, three thread hops a request; on the shared two-core
machine each hop waits to be scheduled, and the page's text box waited for the last module (bench/waterfall.py). Here
a file is read once, compressed once, and answered on the event loop; a stat per request (microseconds) notices a
file changed on disk, so editing a module while the server runs still works. Memory is bounded by the directory
(about 0.6 MB, twice: plain and gzip); only files inside it are ever read.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from starlette.types import Receive, Scope, Send

TEXT_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".html": "text/html"}
GZIP_MIN_BYTES = 1024  # as app.main's GZipMiddleware: smaller answers are not worth compressing
MAX_BYTES = 4 << 20  # larger files are not held in memory: 404, as nothing of the page is that large


@dataclass(frozen=True)
class _File:
    stamp: tuple[int, int]  # (mtime_ns, size): a change on disk reads it again
    body: bytes
    gz: bytes | None
    media_type: str
    etag: str
    modified: str  # Last-Modified, as StaticFiles sent it: without it a reload revalidates every module (304s)


class Assets:
    """An ASGI app for a Mount: GET and HEAD of the files under `directory`, plain or gzip, with an ETag and
    Last-Modified (the browser's heuristic freshness then spares a reload most revalidations, as with StaticFiles)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.files: dict[Path, _File] = {}

    def _file(self, route: str) -> _File | None:
        path = (self.directory / route.lstrip("/")).resolve()
        if not path.is_relative_to(self.directory):
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if not path.is_file() or st.st_size > MAX_BYTES:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        held = self.files.get(path)
        if held is not None and held.stamp == stamp:
            return held
        body = path.read_bytes()
        text = TEXT_TYPES.get(path.suffix)
        media = f"{text}; charset=utf-8" if text else (mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        gz = gzip.compress(body, 6, mtime=0) if text and len(body) >= GZIP_MIN_BYTES else None
        held = _File(stamp, body, gz, media, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
                     formatdate(st.st_mtime, usegmt=True))
        self.files[path] = held
        return held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        route = scope["path"][len(scope.get("root_path", "")):]
        f = self._file(route) if scope["method"] in ("GET", "HEAD") else None
        if f is None:
            status = 404 if scope["method"] in ("GET", "HEAD") else 405
            await _answer(send, status, b"Not Found" if status == 404 else b"Method Not Allowed",
                          [(b"content-type", b"text/plain; charset=utf-8")])
            return
        out = [(b"content-type", f.media_type.encode()), (b"etag", f.etag.encode()),
               (b"last-modified", f.modified.encode()), (b"vary", b"Accept-Encoding")]
        asked = headers.get("if-none-match")  # when present, If-Modified-Since is not looked at (RFC 9110)
        if (asked == f.etag) if asked is not None else headers.get("if-modified-since") == f.modified:
            await _answer(send, 304, b"", out)
            return
        body = f.body
        if f.gz is not None and "gzip" in headers.get("accept-encoding", ""):
            body = f.gz
            out.append((b"content-encoding", b"gzip"))
        await _answer(send, 200, b"" if scope["method"] == "HEAD" else body, out, len(body))


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]],
                  length: int | None = None) -> None:
    headers = [*headers, (b"content-length", str(len(body) if length is None else length).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
