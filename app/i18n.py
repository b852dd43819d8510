"""The server's side of the two languages: the page's own message catalogs (static/i18n/<lang>.json), read
here too, so an error sentence and the page around it come from one place.

    lang = request_language(request)            # ?lang=, else Accept-Language, else English
    translate(lang, "error.empty_text")         # the sentence in that language
    translate("en", "error.too_long_tokens", tokens="2,001", max="2,000")

Catalogs are flat JSON objects, key -> message, with `{name}` placeholders (never `%{...}`, which Plotly
hover templates use). A message that depends on a number has plural forms `key.one`, `key.other`
(English) or `key.other` alone (Chinese), chosen by `count`, as the page's Intl.PluralRules does.
"""
from __future__ import annotations

import json
import re
from functools import cache

from fastapi import Request

from app.settings import ROOT

CATALOGS = ROOT / "static" / "i18n"
LANGUAGES = ("en", "zh-CN")  # the first is the default
PLACEHOLDER = re.compile(r"(?<!%)\{(\w+)\}")


@cache
def catalog(lang: str) -> dict[str, str]:
    """Key -> message for `lang` (read once per process)."""
    return json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8"))


def plural(lang: str, n: float) -> str:
    """The CLDR plural category of n: English has one/other, Chinese only other (as Intl.PluralRules)."""
    return "one" if lang == "en" and n == 1 else "other"


def translate(lang: str, key: str, **params: object) -> str:
    """Message `key` in `lang` (English when that language lacks it) with the placeholders filled in."""
    cat, en = catalog(lang), catalog("en")
    count = params.get("count")
    if isinstance(count, (int, float)) and f"{key}.other" in en:
        key = f"{key}.{plural(lang, count)}" if f"{key}.{plural(lang, count)}" in cat else f"{key}.other"
    text = cat.get(key, en.get(key, key))
    return PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), text)


def _match(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"  # the only Chinese the page has; Traditional readers get Simplified over English
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(query: str | None, accept_language: str | None) -> str:
    """?lang= if it names a language we have, else the first of Accept-Language (by q) that we have, else English."""
    if query and _match(query):
        return _match(query)
    ranked = []
    for k, part in enumerate((accept_language or "").split(",")):
        tag, _, q = part.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag.strip() and weight > 0:
            ranked.append((-weight, k, tag))
    for _, _, tag in sorted(ranked):
        if _match(tag):
            return _match(tag)
    return LANGUAGES[0]


def request_language(request: Request) -> str:
    """The language of a request: `?lang=` (the page's links) or the Accept-Language header (api.js sets it)."""
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


def scope_language(scope: dict) -> str:
    """request_language for raw ASGI middleware, which has no Request object."""
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
    header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    return negotiate(query, header)
