"""POST /api/models/upload: import a PyTorch, Keras or ONNX file from the page into the model picker.

The body is multipart/form-data: `file` (the model), optional `vocab` (file or text), `tokenizer`
(char|word) and `name` (a display name only). The upload is imported and verified inside a private
temporary directory; only a model that imports, verifies and reloads is written, atomically, to the
model directory as `import-<content hash>.safetensors`. A user-supplied name never becomes a path.
The size limit is settings.max_upload_bytes, enforced by the BodyLimit middleware before reading.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.errors import ApiError
from app.registry import Registry, RegistryDep
from app.routes.models import model_info
from app.schemas import Error, ModelInfo
from lstm_core import ModelError, load_model, save_model

router = APIRouter(tags=["models"])

# The extension is only a tie-breaker for sniffing (a .pt pickle, an .onnx protobuf); the bytes decide.
SUFFIXES = {".safetensors", ".pt", ".pth", ".bin", ".keras", ".h5", ".hdf5", ".onnx"}


class UploadInfo(ModelInfo):
    notes: list[str]
    created: bool


@router.post("/api/models/upload", response_model=UploadInfo,
             responses={400: {"model": Error}, 413: {"model": Error}, 415: {"model": Error}, 422: {"model": Error}})
async def upload(request: Request, registry: RegistryDep) -> dict:
    """Import an uploaded model file, verify it against its framework and add it to the picker."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ApiError(415, "not_multipart", "Send the model as multipart/form-data with the file in a field "
                       "named 'file' (what a browser form or FormData sends).")
    fields = parse_multipart(await request.body(), ctype)
    return await run_in_threadpool(_import, fields, registry)


def _import(fields: dict[str, tuple[str | None, bytes]], registry: Registry) -> dict:
    if "file" not in fields or not fields["file"][1]:
        raise ApiError(422, "no_file", "The upload has no model file: put it in the form field 'file'.")
    filename, data = fields["file"]
    vocab = fields.get("vocab", (None, b""))[1]
    tokenizer = _text(fields, "tokenizer") or None
    if tokenizer not in (None, "char", "word"):
        raise ApiError(422, "bad_tokenizer", f"tokenizer must be 'char' or 'word', not {tokenizer!r}.")
    name = re.sub(r"\s+", " ", _text(fields, "name") or Path(filename or "model").stem).strip()[:80] or "model"
    digest = hashlib.sha256()
    for part in (data, b"\0vocab\0", vocab, b"\0", (tokenizer or "").encode(), b"\0", name.encode()):
        digest.update(part)
    model_id = f"import-{digest.hexdigest()[:16]}"
    existing = registry.get(model_id)
    if existing is not None:
        return {**model_info(existing), "notes": ["This exact upload was imported before."], "created": False}
    suffix = Path(filename or "").suffix.lower()
    with tempfile.TemporaryDirectory(prefix="gatescope-upload-") as tmp:
        src = Path(tmp) / ("upload" + (suffix if suffix in SUFFIXES else ""))
        src.write_bytes(data)
        vocab_path = None
        if vocab:
            vocab_path = Path(tmp) / "vocab.txt"
            vocab_path.write_bytes(vocab)
        from lstm_core.importers import import_model

        try:
            res = import_model(src, vocab=vocab_path, tokenizer=tokenizer, name=name)
        except ModelError as e:
            shown = str(e).replace(src.name, filename or "the file")
            raise ApiError(422, "import_failed", _sentence(shown)) from None
        v = res.verification
        if v.get("verified") and not v.get("passed"):
            raise ApiError(422, "verification_failed", f"gatescope does not reproduce {v['framework']} on this file "
                           f"(max abs difference {v['max']:.2e}, tolerance {v['tolerance']:.0e}); it was not added.")
        registry.model_dir.mkdir(parents=True, exist_ok=True)
        path = registry.model_dir / f"{model_id}.safetensors"
        save_model(res.model, path)  # atomic: a temporary file, then a rename
    entry = registry.add(model_id, load_model(path), path)
    return {**model_info(entry), "notes": list(res.notes), "created": True}


def parse_multipart(body: bytes, ctype: str) -> dict[str, tuple[str | None, bytes]]:
    """Fields of a multipart/form-data body: name -> (filename or None, bytes). RFC 7578, strictly."""
    m = re.search(r'boundary="?([^";,]+)"?', ctype)
    if not m:
        raise ApiError(400, "bad_multipart", "The multipart body has no boundary in its Content-Type.")
    delim = b"\r\n--" + m.group(1).encode("latin-1")
    segments = (b"\r\n" + body).split(delim)
    fields: dict[str, tuple[str | None, bytes]] = {}
    closed = False
    for seg in segments[1:]:
        if seg.startswith(b"--"):
            closed = True
            break
        head, sep, content = seg.partition(b"\r\n\r\n")
        disp = re.search(rb'(?im)^\s*content-disposition:\s*form-data\s*;(.*)$', head)
        if not sep or not head.startswith(b"\r\n") or not disp:
            raise ApiError(400, "bad_multipart", "A part of the multipart body is malformed (no form-data header).")
        name = re.search(rb'(?:^|;)\s*name="([^"]*)"', disp.group(1))
        filename = re.search(rb'filename="([^"]*)"', disp.group(1))
        if name:
            fields[name.group(1).decode("utf-8", "replace")] = (
                filename.group(1).decode("utf-8", "replace") if filename else None, content)
    if not closed:
        raise ApiError(400, "bad_multipart", "The multipart body is incomplete (no closing boundary); "
                       "the upload was cut off.")
    return fields


def _text(fields: dict, key: str) -> str:
    raw = fields.get(key, (None, b""))[1]
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ApiError(422, "bad_field", f"The form field {key!r} is not UTF-8 text.") from None


def _sentence(s: str) -> str:
    return s[:1].upper() + s[1:].rstrip(".") + "."
