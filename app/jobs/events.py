"""The event log and status file of a training job: the one format its writer and its readers share.

Every event is one line of JSON whose first key is "type" (so a reader can tell a line's type from its
first bytes without parsing a large snapshot): "start", "progress", "snapshot", then one of TERMINAL.
Lines are appended with a single write to a file opened O_APPEND, so a reader never sees half of one
unless it is still being written; `read_new` returns complete lines only.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

TERMINAL = ("done", "stopped", "failed")
ACTIVE = ("starting", "running")
TYPE = re.compile(rb'^\{"type":"(\w+)"')


def dumps(event: dict) -> bytes:
    """One event as a line of compact JSON, "type" first."""
    body = {"type": event["type"], **{k: v for k, v in event.items() if k != "type"}}
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode() + b"\n"


def append(path: Path, event: dict) -> None:
    """Append one event in a single write."""
    line = dumps(event)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def event_type(line: bytes) -> str:
    m = TYPE.match(line)
    return m.group(1).decode() if m else ""


def read_new(path: Path, offset: int, max_bytes: int = 8 << 20) -> tuple[list[tuple[int, bytes]], int]:
    """([(offset after the line, line without its newline)], new offset): the complete lines after `offset`."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read(max_bytes)
    except FileNotFoundError:
        return [], offset
    out = []
    pos = 0
    while True:
        end = chunk.find(b"\n", pos)
        if end < 0:
            break
        out.append((offset + end + 1, chunk[pos:end]))
        pos = end + 1
    return out, offset + pos


def write_json(path: Path, obj: dict) -> None:
    """Replace `path` atomically (a reader sees the old file or the new one, never a mix)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
