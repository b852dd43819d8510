"""POST /api/models/upload: import a PyTorch, Keras or ONNX file from the page into the model picker.

The body is multipart/form-data: `file` (the model), optional `vocab` (file or text), `tokenizer`
(char|word), `name` (a display name only), `labels` (file or text: the head's output names), `head`
(next_token|tagger|classifier) and `pool` (final|last), as the import command's flags.
The upload is imported and verified inside a private temporary directory. The model is then saved
under a unique hidden name in the model directory (not `*.safetensors`, so no worker's registry picks
it up half-made), loaded back from there, and only then renamed, atomically, to
`import-<content hash>.safetensors`; a failure on the way leaves nothing behind.
A user-supplied name never becomes a path.
The size limit is settings.max_upload_bytes, enforced by the BodyLimit middleware before reading.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from app import service
from app.errors import ApiError, from_model_error
from app.registry import Registry, RegistryDep
from app.schemas import Error, ModelInfo
from lstm_core import Model, ModelError, load_model, save_model

router = APIRouter(tags=["models"])
log = logging.getLogger("gatescope.upload")

# The extension is only a tie-breaker for sniffing (a .pt pickle, an .onnx protobuf); the bytes decide.
SUFFIXES = {".safetensors", ".pt", ".pth", ".bin", ".keras", ".h5", ".hdf5", ".onnx"}


class UploadInfo(ModelInfo):
    notes: list[str]
    created: bool


@router.post("/api/models/upload", response_model=UploadInfo,
             responses={400: {"model": Error}, 413: {"model": Error}, 415: {"model": Error}, 422: {"model": Error},
                        500: {"model": Error}})
async def upload(request: Request, registry: RegistryDep) -> dict:
    """Import an uploaded model file, verify it against its framework and add it to the picker."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "not_multipart", "error.not_multipart")
    try:
        form = await request.form(max_files=3, max_fields=12)
    except (MultiPartException, HTTPException) as e:
        message = getattr(e, "message", None) or getattr(e, "detail", "")
        raise ApiError(400, "bad_multipart", "error.bad_multipart", reason=message) from None
    fields = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                fields[key] = (value.filename, await value.read())
            else:
                fields[key] = (None, value.encode())
    finally:
        await form.close()
    return await run_in_threadpool(_import, fields, registry)


def _import(fields: dict[str, tuple[str | None, bytes]], registry: Registry) -> dict:
    if "file" not in fields or not fields["file"][1]:
        raise ApiError(422, "no_file", "error.no_file")
    filename, data = fields["file"]
    vocab = fields.get("vocab", (None, b""))[1]
    tokenizer = _text(fields, "tokenizer") or None
    if tokenizer not in (None, "char", "word"):
        raise ApiError(422, "bad_tokenizer", "error.bad_tokenizer", got=repr(tokenizer))
    name = re.sub(r"\s+", " ", _text(fields, "name") or Path(filename or "model").stem).strip()[:80] or "model"
    labels = fields.get("labels", (None, b""))[1]
    head, pool = _text(fields, "head") or None, _text(fields, "pool") or None
    digest = hashlib.sha256()
    for part in (data, b"\0vocab\0", vocab, b"\0", (tokenizer or "").encode(), b"\0", name.encode(),
                 b"\0labels\0", labels, b"\0", (head or "").encode(), b"\0", (pool or "").encode()):
        digest.update(part)
    model_id = f"import-{digest.hexdigest()[:16]}"
    existing = registry.get(model_id)
    if existing is not None:
        return {**service.model_info(existing), "notes": ["This exact upload was imported before."], "created": False}
    suffix = Path(filename or "").suffix.lower()
    with tempfile.TemporaryDirectory(prefix="gatescope-upload-") as tmp:
        src = Path(tmp) / ("upload" + (suffix if suffix in SUFFIXES else ""))
        src.write_bytes(data)
        vocab_path = labels_path = None
        if vocab:
            vocab_path = Path(tmp) / "vocab.txt"
            vocab_path.write_bytes(vocab)
        if labels:
            labels_path = Path(tmp) / "labels.txt"
            labels_path.write_bytes(labels)
        from lstm_core.importers import import_model

        try:
            res = import_model(src, vocab=vocab_path, tokenizer=tokenizer, name=name, labels=labels_path, head=head,
                               pool=pool)
        except ModelError as e:
            raise from_model_error(422, "import_failed", e, lambda s: s.replace(src.name, filename or "the file")) \
                from None
        except Exception as e:  # a bug in an importer: logged for us, one sentence for the user
            log.exception("import of an upload named %r failed", filename)
            raise ApiError(500, "internal_error", "error.unexpected_import", file=filename or "the file",
                           type=type(e).__name__) from None
        v = res.verification
        if v.get("verified") and not v.get("passed"):
            raise ApiError(422, "verification_failed", "error.verification_failed", framework=v["framework"],
                           max=f"{v['max']:.2e}", tolerance=f"{v['tolerance']:.0e}")
    entry = registry.add(model_id, *_store(res.model, registry.model_dir, model_id))
    return {**service.model_info(entry), "notes": list(res.notes), "created": True}


def _store(model: Model, model_dir: Path, model_id: str) -> tuple[Model, Path]:
    """Save, load back, then rename into place: (the model as read from its file, the file)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"{model_id}.safetensors"
    # Unique per request: two workers taking the same upload at once never write the same file.
    tmp = model_dir / f".{model_id}.{secrets.token_hex(6)}.upload"
    try:
        save_model(model, tmp)
        try:
            stored = load_model(tmp)
        except ModelError as e:
            raise ApiError(500, "store_failed", "error.store_failed", reason=str(e)) from None
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return stored, path


def _text(fields: dict, key: str) -> str:
    raw = fields.get(key, (None, b""))[1]
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ApiError(422, "bad_field", "error.bad_field", field=repr(key)) from None
