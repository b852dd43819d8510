"""Every error the API returns is JSON `{"detail": "<sentence>", "code": "<id>"}`, never a traceback."""
from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lstm_core import ModelError
from lstm_core.errors import unexpected

log = logging.getLogger("gatescope.errors")


class ApiError(HTTPException):
    """Raised by routes; becomes a JSON error response with this status, code and sentence.

    An HTTPException so that FastAPI passes it through unchanged even while reading the body.
    """

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(status, detail)
        self.status, self.code = status, code


def error_response(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status)


def _where(loc: tuple) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts else "the body"


def validation_sentence(errors: list[dict]) -> tuple[int, str, str]:
    """(status, code, sentence) for pydantic's error list: 400 for unparseable JSON, else 422."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        pos = first.get("loc", ("body", "?"))[-1]
        reason = first.get("ctx", {}).get("error", "syntax error")
        return 400, "malformed_json", (f"The request body is not valid JSON ({reason} at character {pos}); "
                                       'send an object such as {"model": "...", "text": "..."}.')
    if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("body",):
        return 422, "missing_body", ('The request needs a JSON body such as {"model": "...", "text": "..."} '
                                     "with Content-Type: application/json.")
    parts = []
    for e in errors[:3]:
        where, got = _where(tuple(e.get("loc", ()))), e.get("input")
        if e.get("type") == "missing":
            parts.append(f"'{where}' is required")
        elif e.get("type") in ("model_attributes_type", "dict_type"):
            parts.append(f"{where} must be a JSON object")
        else:
            shown = repr(got) if len(repr(got)) <= 40 else repr(got)[:37] + "..."
            parts.append(f"'{where}': {e.get('msg', 'invalid value').rstrip('.')} (got {shown})")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return 422, "invalid_request", ("Invalid request: " + "; ".join(parts) + more
                                    + ". The bodies are described at /openapi.json.")


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.detail)


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    status, code, detail = validation_sentence(list(exc.errors()))
    return error_response(status, code, detail)


async def _model_error(_: Request, exc: ModelError) -> JSONResponse:
    return error_response(422, "model_error", str(exc)[:1].upper() + str(exc)[1:].rstrip(".") + ".")


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        detail = f"No such page or endpoint: {request.url.path}. The API is described at /openapi.json."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}. The API is described at /openapi.json."
    else:
        detail = str(exc.detail)
    return JSONResponse({"detail": detail, "code": f"http_{exc.status_code}"}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", unexpected(f"answering {request.method} {request.url.path}", exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ModelError, _model_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)


class BodyLimit:
    """Refuse request bodies over the limit with 413 before they are read into memory.

    Paths ending in /upload (model files) may send `upload_bytes`, every other request `max_bytes`.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int) -> None:
        self.app, self.max_bytes, self.upload_bytes = app, max_bytes, upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"].endswith("/upload") else self.max_bytes
        sentence = (f"The request body is larger than this server accepts ({limit:,} bytes); "
                    "send a shorter text or a smaller file.")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await error_response(413, "body_too_large", sentence)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > limit:  # a chunked body that declared no length
                raise ApiError(413, "body_too_large", sentence)
            return msg

        await self.app(scope, counted, send)
