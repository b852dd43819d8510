"""Who may talk to the server, and what every answer tells the browser.

- **Host.** DNS rebinding points a name the attacker controls at this machine, so that their page can read our
  answers as its own origin. The Host header then carries their name: only IP literals (a rebinding attack cannot
  use one: the page's origin would be that address, i.e. ours), `localhost` and configured names
  (settings.allowed_hosts; the machine's own names when the server is bound to the network) are answered.
- **Origin.** A page on another origin can still *send* a request, as a form or a no-cors fetch, even though it
  cannot read the answer; an upload sent that way added a model. Requests that change or compute anything (every
  method but GET, HEAD and OPTIONS) must come from this server's own page: `Sec-Fetch-Site` same-origin (or none,
  typed by the user), else an `Origin` equal to our own; with neither header it is not a browser, so it passes.
  Origins listed in settings.cors_origins are let through, and only then does the server answer CORS.
- **Headers.** A Content-Security-Policy with no inline script (the page has none; Plotly needs inline styles
  but no eval for the traces drawn here), nothing fetched from elsewhere (connect-src 'self'), no framing;
  nosniff; no referrer.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response
from app.i18n import scope_language, translate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin"),
           (b"cross-origin-resource-policy", b"same-origin")]


def host_names(bound: str, configured: list[str]) -> set[str]:
    """The names the server answers to besides IP literals: localhost, the configured ones, and the machine's own
    names when bound beyond loopback (a classroom reaches it as http://teacher-laptop.local:8000)."""
    names = {"localhost", *(n.strip().lower() for n in configured if n.strip())}
    if not _is_ip(bound):
        names.add(bound.lower())
    if not _is_loopback(bound):
        hostname = socket.gethostname().lower()
        names |= {hostname, f"{hostname}.local", socket.getfqdn().lower()}
    return names


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _is_loopback(host: str) -> bool:
    return host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host.strip("[]")).is_loopback)


def _hostname(netloc: str) -> str:
    """The host part of a Host header or an origin's netloc, without the port, lower case."""
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1].lower()
    return netloc.rsplit(":", 1)[0].lower() if netloc.count(":") == 1 else netloc.lower()


class Guard:
    """ASGI middleware: Host and Origin checks, then the security headers on every answer."""

    def __init__(self, app: ASGIApp, names: set[str], cors_origins: list[str]) -> None:
        self.app, self.names = app, names
        self.cors = {o.rstrip("/").lower() for o in cors_origins}

    def host_ok(self, host: str | None) -> bool:
        if not host:
            return True  # HTTP/1.0 without Host: not a browser, not a rebinding attack
        name = _hostname(host)
        return _is_ip(name) or name in self.names or "*" in self.names or any(
            n.startswith("*.") and name.endswith(n[1:]) for n in self.names)

    def origin_ok(self, headers: Headers, scheme: str) -> tuple[bool, str]:
        origin = (headers.get("origin") or "").rstrip("/").lower()
        site = headers.get("sec-fetch-site")
        if origin and origin in self.cors:
            return True, origin
        if site is not None:
            return site in ("same-origin", "none"), origin or site
        if not origin:
            return True, ""
        own = f"{scheme}://{(headers.get('host') or '').lower()}"
        u = urlsplit(origin)
        port = {"http": 80, "https": 443}.get(u.scheme)
        same = origin == own or (u.port is None and own == f"{origin}:{port}")
        return same, origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                for k, v in HEADERS:
                    h.setdefault(k.decode(), v.decode())
            await send(message)

        if not self.host_ok(headers.get("host")):
            shown = repr(_hostname(headers.get("host", ""))[:100])
            detail = translate(scope_language(scope), "error.bad_host", host=shown)
            await error_response(400, "bad_host", detail)(scope, receive, send_with_headers)
            return
        if scope["method"] not in SAFE_METHODS:
            ok, origin = self.origin_ok(headers, scope.get("scheme", "http"))
            if not ok:
                detail = translate(scope_language(scope), "error.cross_site", origin=origin[:100])
                await error_response(403, "cross_site", detail)(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)
