"""POST /api/models/upload: import a PyTorch, Keras or ONNX file from the page into the model picker.

The body is multipart/form-data: `file` (the model), optional `vocab` (file or text), `tokenizer`
(char|word), `name` (a display name only, never a path), `labels` (file or text: the head's output names),
`head` (next_token|tagger|classifier) and `pool` (final|last), as the import command's flags. The upload is
imported and verified inside a private temporary directory, checked against the upload limits (vocabulary,
parameters), and stored by app/store.py under the hash of its weights: the same weights uploaded again,
under any name, are the same model. The byte limit is settings.max_upload_bytes, enforced by the BodyLimit
middleware while reading.
"""
from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from app import service, store
from app.errors import ApiError, from_model_error
from app.registry import Entry, Registry, RegistryDep
from app.schemas import UPLOAD_FORM, Error, ModelInfo
from app.settings import Settings, SettingsDep
from lstm_core import Model, ModelError

router = APIRouter(tags=["models"])
log = logging.getLogger("gatescope.upload")

# The extension is only a tie-breaker for sniffing (a .pt pickle, an .onnx protobuf); the bytes decide.
SUFFIXES = {".safetensors", ".pt", ".pth", ".bin", ".keras", ".h5", ".hdf5", ".onnx"}
RECENT = 256  # upload digests remembered per process, so that a repeated upload is not imported again


class UploadInfo(ModelInfo):
    notes: list[str]
    created: bool


@router.post("/api/models/upload", response_model=UploadInfo, openapi_extra=UPLOAD_FORM,
             responses={s: {"model": Error} for s in (400, 403, 413, 415, 422, 500, 503)})
async def upload(request: Request, registry: RegistryDep, settings: SettingsDep) -> dict:
    """Import an uploaded model file, verify it against its framework and add it to the picker."""
    if not settings.uploads:
        raise ApiError(403, "uploads_off", "error.uploads_off")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "not_multipart", "error.not_multipart")
    try:
        form = await request.form(max_files=3, max_fields=12)
    except ApiError:
        raise  # BodyLimit's 413, raised while the form was read
    except (MultiPartException, HTTPException) as e:
        message = getattr(e, "message", None) or getattr(e, "detail", "")
        raise ApiError(400, "bad_multipart", "error.bad_multipart", reason=message) from None
    try:
        return await run_in_threadpool(_import, form, registry, settings, request.app.state.recent_uploads)
    finally:
        await form.close()


def _import(form: FormData, registry: Registry, settings: Settings, recent: dict[str, str]) -> dict:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.size:
        raise ApiError(422, "no_file", "error.no_file")
    tokenizer = _text(form, "tokenizer") or None
    if tokenizer not in (None, "char", "word"):
        raise ApiError(422, "bad_tokenizer", "error.bad_tokenizer", got=repr(tokenizer))
    name = re.sub(r"\s+", " ", _text(form, "name") or Path(upload.filename or "model").stem).strip()[:80] or "model"
    vocab, labels = _bytes(form, "vocab"), _bytes(form, "labels")
    head, pool = _text(form, "head") or None, _text(form, "pool") or None
    digest = hashlib.sha256()
    for part in (vocab, b"\0", (tokenizer or "").encode(), b"\0", labels, b"\0", (head or "").encode(), b"\0",
                 (pool or "").encode(), b"\0"):
        digest.update(part)
    suffix = Path(upload.filename or "").suffix.lower()
    with tempfile.TemporaryDirectory(prefix=store.UPLOAD_DIRS) as tmp:
        src = Path(tmp) / ("upload" + (suffix if suffix in SUFFIXES else ""))
        with open(src, "wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out, 1 << 20)
        with open(src, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        seen = registry.get(recent.get(digest.hexdigest(), ""))
        if seen is not None:  # the same bytes again: no need to import them to know
            return _existing(seen, [])
        paths = {}
        for key, data in (("vocab", vocab), ("labels", labels)):
            if data:
                paths[key] = Path(tmp) / f"{key}.txt"
                paths[key].write_bytes(data)
        model, notes = _imported(src, upload.filename, tokenizer=tokenizer, name=name, head=head, pool=pool, **paths)
    _check_size(model, settings)
    model_id = store.weights_id(model)
    if len(recent) >= RECENT:
        recent.pop(next(iter(recent)))
    recent[digest.hexdigest()] = model_id
    existing = registry.get(model_id)
    if existing is not None:
        return _existing(existing, notes)
    stored, path, evicted = store.store(model, registry.model_dir, model_id, settings.upload_store_count,
                                        settings.upload_store_mb << 20)
    for gone in evicted:
        registry.forget(gone)
    return {**service.model_info(registry.add(model_id, stored, path)), "notes": notes, "created": True}


def _existing(entry: Entry, notes: list[str]) -> dict:
    store.touch(entry.path)
    said = f"These weights were uploaded before, as {entry.meta.name or entry.id!r}; that model is used."
    return {**service.model_info(entry), "notes": [said, *notes], "created": False}


def _imported(src: Path, filename: str | None, **options: object) -> tuple[Model, list[str]]:
    """Import and verify; options are import_model's (vocab, labels, tokenizer, name, head, pool)."""
    from lstm_core.importers import import_model

    try:
        res = import_model(src, **options)
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
    return res.model, list(res.notes)


def _check_size(model: Model, s: Settings) -> None:
    """The upload limits, stated in the refusal: a vocabulary and a parameter count."""
    vocab, n = model.vocab_size or 0, model.num_parameters
    if vocab > s.upload_max_vocab or n > s.upload_max_parameters:
        raise ApiError(413, "model_too_large", "error.model_too_large", parameters=f"{n:,}", vocab=f"{vocab:,}",
                       max_parameters=f"{s.upload_max_parameters:,}", max_vocab=f"{s.upload_max_vocab:,}")


def _bytes(form: FormData, key: str) -> bytes:
    """A field sent as a file or as text, as bytes (b"" when absent)."""
    value = form.get(key)
    return value.file.read() if isinstance(value, UploadFile) else (value or "").encode()


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    if isinstance(value, UploadFile):
        try:
            return value.file.read().decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ApiError(422, "bad_field", "error.bad_field", field=repr(key)) from None
    return (value or "").strip()
