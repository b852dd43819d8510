"""The page shell (GET /) and Plotly.js from the installed plotly package (GET /vendor/plotly.min.js)."""
from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from app import lessons, service
from app.errors import ApiError
from app.i18n import LANGUAGES, catalog, request_language, translate
from app.registry import Registry, RegistryDep
from app.schemas import LessonList, ModelDetail, ModelList
from app.settings import ROOT, VERSION, Settings, SettingsDep
from lstm_core import card_examples

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(ROOT / "templates"))
# The shell's data block (shell_data) keeps Chinese as UTF-8, half the bytes of \u escapes; tojson still escapes <>&'.
templates.env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}

# The file never changes while the server runs; the page asks for it with ?v=<plotly version>.
INTRO_COOKIE = "gatescope_intro"  # "hidden" once the reader dismissed the introduction (static/js/intro.js)
LONG_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
# A model description larger than this (a word model's vocabulary) is left for the page to fetch: the shell stays small.
SHELL_MODEL_BYTES = 64 << 10
# The model a first visit opens on (the first of these the server has, else the first by id): the guided lesson's.
FLAGSHIPS = ("hometown", "shakespeare-char")


@cache
def plotly_js() -> tuple[Path, str]:
    """Path and version of the plotly package's own plotly.min.js (never a CDN, never a copy)."""
    try:
        import plotly
    except ImportError:
        return Path("/nonexistent"), ""
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js", plotly.__version__


@cache
def _plotly_gz(path: Path) -> bytes:
    """Compressed once per process, not on every page load (the file is ~4.6 MB)."""
    return gzip.compress(path.read_bytes(), compresslevel=6)


_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?from\s+'\./([\w-]+\.js)'|^\s*import\s+'\./([\w-]+\.js)'""", re.M)


@cache
def page_modules() -> tuple[str, ...]:
    """Every ES module static/js/main.js imports, directly or not (read once per process).

    The shell names them all as <link rel="modulepreload">, so the browser fetches the whole graph at once instead
    of one level of imports per round trip (five levels deep, about 50 files): the text box is ready sooner."""
    js = ROOT / "static" / "js"
    seen: list[str] = []
    todo = ["main.js"]
    while todo:
        name = todo.pop()
        if name in seen or not (js / name).is_file():
            continue
        seen.append(name)
        todo += [a or b for a, b in _IMPORT.findall((js / name).read_text(encoding="utf-8"))]
    return tuple(sorted(seen[1:]))


def opening(registry: Registry, request: Request, lang: str) -> tuple[str, str]:
    """(model, text) the page opens on, written into the shell so that the text box holds its text, and takes
    typing, at the first paint, long before the scripts run: the link's model, else a flagship; the link's ?text=,
    else that model's first example in the page's language. A lesson link's text is the lesson's (main.js), and a
    link's #text= fragment, which never reaches the server, replaces this before the paint (static/js/boot.js)."""
    ids = [e.id for e in registry]
    asked = request.query_params.get("model", "")
    model = asked if asked in ids else next((m for m in FLAGSHIPS if m in ids), ids[0] if ids else "")
    if "text" in request.query_params:
        return model, request.query_params["text"]
    if request.query_params.get("lesson") or not model:
        return model, ""
    return model, service.openers(card_examples(next(e for e in registry if e.id == model).meta.card)).get(lang, "")


def wire(schema: type[BaseModel], answer: dict) -> dict:
    """`answer` as the API sends it: validated and dumped by the route's response model, as FastAPI does."""
    return schema.model_validate(answer).model_dump(mode="json", by_alias=True)


def shell_data(registry: Registry, settings: Settings, lang: str, model: str) -> dict:
    """What the page asks first, answered in the shell so that its start needs no round trip: the message catalog of
    `lang` (static/i18n/<lang>.json), GET /api/models, GET /api/lessons and GET /api/models/<model>, each made by the
    API's own functions and response models (tests/app/test_page.py compares them with the API's answers). The page
    (static/js/api.js) takes each once, for the question it answers, and asks the server for anything else."""
    data = {"catalog": {"lang": lang, "messages": catalog(lang)},
            "models": wire(ModelList, service.model_list(registry, settings)),
            "lessons": wire(LessonList, lessons.listing(registry))}
    entry = registry.get(model) if model else None
    if entry is not None:
        detail = wire(ModelDetail, service.model_detail(entry))
        if len(json.dumps(detail)) <= SHELL_MODEL_BYTES:
            data["model"] = detail
    return data


@router.get("/", response_class=HTMLResponse)
def index(request: Request, registry: RegistryDep, settings: SettingsDep) -> Response:
    """The explorer page: a shell, with the first answers of the JSON API written into it (shell_data).

    Its static text is in the request's language (?lang=, else Accept-Language); <html lang> tells the page
    which, and the page may switch to the language this browser chose before (static/js/i18n.js). The
    introduction is left out once dismissed, so it never vanishes after the page has been drawn.
    """
    if not (ROOT / "templates" / "index.html").is_file():
        raise ApiError(500, "no_page", "error.no_page")
    lang = request_language(request)
    model, text = opening(registry, request, lang)
    context = {"version": VERSION, "plotly_version": plotly_js()[1], "modules": page_modules(), "lang": lang,
               "languages": LANGUAGES, "model": model, "text": text,
               "t": lambda key, **params: translate(lang, key, **params),
               "shell": shell_data(registry, settings, lang, model),
               "intro": request.cookies.get(INTRO_COOKIE) != "hidden"}
    return templates.TemplateResponse(request, "index.html", context,
                                      headers={"Content-Language": lang, "Vary": "Accept-Language, Cookie"})


@router.api_route("/vendor/plotly.min.js", methods=["GET", "HEAD"])
def plotly_min_js(request: Request) -> Response:
    """Plotly.js as installed with the plotly Python package. HEAD: whether it is (static/js/plot.js asks, when the
    script did not load, to tell a missing package from a failed fetch)."""
    path, _ = plotly_js()
    if not path.is_file():
        raise ApiError(500, "no_plotly", "error.no_plotly")
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(_plotly_gz(path), media_type="text/javascript; charset=utf-8",
                        headers={**LONG_CACHE, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return FileResponse(path, media_type="text/javascript; charset=utf-8", headers=LONG_CACHE)
