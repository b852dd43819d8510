"""Every error the API returns is JSON `{"detail": "<sentence>", "code": "<id>"}`, never a traceback.

The sentence is in the request's language (app/i18n.py: ?lang= or Accept-Language); `code` never changes.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import request_language, scope_language, translate
from lstm_core import ModelError

log = logging.getLogger("gatescope.errors")


class ApiError(HTTPException):
    """Raised by routes; becomes a JSON error response with this status, code and the catalog sentence `key`
    (static/i18n/*.json) with `params`, in the request's language. `detail` holds the English one (logs).

    An HTTPException so that FastAPI passes it through unchanged even while reading the body.
    """

    def __init__(self, status: int, code: str, key: str, *, headers: dict[str, str] | None = None,
                 **params: object) -> None:
        super().__init__(status, translate("en", key, **params), headers=headers)
        self.status, self.code, self.key, self.params = status, code, key, params


def error_response(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status)


def _where(loc: tuple) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts else "the body"


def validation_sentence(errors: list[dict], lang: str = "en") -> tuple[int, str, str]:
    """(status, code, sentence) for pydantic's error list: 400 for unparseable JSON, else 422.

    pydantic's own phrases ("Input should be a valid integer") and the JSON parser's stay English.
    """
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        pos = first.get("loc", ("body", "?"))[-1]
        reason = first.get("ctx", {}).get("error", "syntax error")
        return 400, "malformed_json", translate(lang, "error.malformed_json", reason=reason, pos=pos)
    if first.get("type") == "bad_text":  # app.schemas.Text: a lone surrogate or a control character
        ctx = first["ctx"]
        return 422, "bad_text", translate(lang, f"error.bad_text_{ctx['kind']}", code=ctx["code"], at=ctx["at"])
    if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("body",):
        return 422, "missing_body", translate(lang, "error.missing_body")
    parts = []
    for e in errors[:3]:
        where, got = _where(tuple(e.get("loc", ()))), e.get("input")
        if e.get("type") == "missing":
            parts.append(translate(lang, "error.field_missing", where=where))
        elif e.get("type") in ("model_attributes_type", "dict_type"):
            parts.append(translate(lang, "error.field_object", where=where))
        else:
            shown = repr(got) if len(repr(got)) <= 40 else repr(got)[:37] + "..."
            parts.append(translate(lang, "error.field_invalid", where=where,
                                   reason=e.get("msg", "invalid value").rstrip("."), got=shown))
    more = translate(lang, "error.more_problems", count=len(errors) - 3) if len(errors) > 3 else ""
    return 422, "invalid_request", translate(lang, "error.invalid_request",
                                             problems=translate(lang, "error.list_separator").join(parts), more=more)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    response = error_response(exc.status, exc.code, translate(request_language(request), exc.key, **exc.params))
    response.headers.update(exc.headers or {})  # e.g. Retry-After with a 429
    return response


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    status, code, detail = validation_sentence(list(exc.errors()), request_language(request))
    return error_response(status, code, detail)


def sentence(s: str) -> str:
    """A core message as a sentence: capital first letter, one full stop."""
    return s[:1].upper() + s[1:].rstrip(".") + "."


def from_model_error(status: int, code: str, exc: ModelError, rename: Callable[[str], str] = str) -> ApiError:
    """The ApiError for a core ModelError: its catalog key when the core gave it one (the errors a page user
    meets), else, for the many rarer importer refusals, the English sentence inside the frame
    "error.in_english", which says in the reader's language that the sentence is English. `rename` rewrites
    text in it (a temporary file name into the user's)."""
    if exc.key:
        return ApiError(status, code, exc.key, **{k: rename(v) if isinstance(v, str) else v
                                                  for k, v in exc.params.items()})
    return ApiError(status, code, "error.in_english", sentence=sentence(rename(str(exc))))


async def _model_error(request: Request, exc: ModelError) -> JSONResponse:
    return await _api_error(request, from_model_error(422, "model_error", exc))


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    lang = request_language(request)
    if exc.status_code == 404:
        detail = translate(lang, "error.http_404", path=request.url.path)
    elif exc.status_code == 405:
        detail = translate(lang, "error.http_405", method=request.method, path=request.url.path)
    else:
        detail = str(exc.detail)
    return JSONResponse({"detail": detail, "code": f"http_{exc.status_code}"}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", translate(request_language(request), "error.unexpected",
                                                           request=f"{request.method} {request.url.path}",
                                                           type=type(exc).__name__))


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
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            detail = translate(scope_language(scope), "error.body_too_large", limit=f"{limit:,}")
            await error_response(413, "body_too_large", detail)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > limit:  # a chunked body that declared no length
                raise ApiError(413, "body_too_large", "error.body_too_large", limit=f"{limit:,}")
            return msg

        await self.app(scope, counted, send)
