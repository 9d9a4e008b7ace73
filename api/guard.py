"""What a web page must not do through the API, refused before any route runs.

- **A foreign Host** (DNS rebinding: a page on a name of the attacker's that resolves to 127.0.0.1
  reads the API as its own origin): only the names the API serves are answered, loopback's, the
  address ``lineage serve`` bound to and ``LINEAGE_ALLOWED_HOSTS``; others get 421.
- **A cross-site write** (a form on any site posting to ``/ingest``: a "simple" request, sent with
  no preflight): a POST, PUT, PATCH or DELETE whose ``Origin`` is neither the API's own nor one of
  ``LINEAGE_ALLOWED_ORIGINS``, or whose ``Sec-Fetch-Site`` is ``cross-site``, gets 403. Requests with
  no ``Origin`` (curl, the CLI, scripts: no browser sends a cross-site write without one) pass.
- **A read made by another site's page** (an ``<img>`` or a script asking for a drill or an export,
  which the audit log records): a GET that the browser says comes from another site or another
  origin on it (``Sec-Fetch-Site`` ``cross-site`` or ``same-site``), other than a link followed by
  the user (``Sec-Fetch-Mode: navigate``) or a listed origin's, gets 403.

Both hold with and without keys. Answers are problem+json, as every error of the API's.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from starlette.middleware.cors import CORSMiddleware

from api.problems import MEDIA_TYPE, problem_body
from lineage.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@cache
def _machine_names() -> frozenset[str]:
    """This machine's names and addresses, for an API bound to every interface: its host names,
    what they resolve to, and the address of the interface its default route leaves by."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for name in list(names):
        try:
            names |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:
            continue
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:  # connecting a UDP socket sends nothing; it only picks the outgoing interface
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                names.add(str(udp.getsockname()[0]))
        except OSError:
            continue
    return frozenset(names)


def served_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names answered, lower case, without port or brackets; None: any."""
    if "*" in settings.allowed_hosts:
        return None
    hosts = set(LOOPBACK_NAMES) | {h.lower().strip("[]") for h in settings.allowed_hosts}
    bound = (settings.serve_host or "").lower().strip("[]")
    if bound in ("0.0.0.0", "::"):
        hosts |= _machine_names()
    elif bound:
        hosts.add(bound)
    return frozenset(hosts)


def host_name(header: str) -> str | None:
    """``Host`` without its port: ``[::1]:8000`` is ``::1``, ``localhost:8000`` is ``localhost``;
    None for anything else after the name than a numeric port (``127.0.0.1:80@evil.example``)."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        name, rest = (header[1:end], header[end + 1 :]) if end > 0 else (header, "")
    elif header.count(":") == 1:
        name, rest = header.split(":")[0], ":" + header.split(":")[1]
    else:
        name, rest = header, ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return name


def _origin(text: str) -> str:
    """An origin as compared: lower case, no trailing slash."""
    return text.strip().lower().rstrip("/")


@dataclass(frozen=True)
class _Policy:
    """What the settings say, worked out once: they do not change while the process runs."""

    served: frozenset[str] | None  # None: any host
    origins: frozenset[str]  # LINEAGE_ALLOWED_ORIGINS, as compared
    app: App  # the app, behind CORS for the listed origins


class Guard:
    """ASGI middleware: the Host check on every request, the cross-site check on every write and
    read, then CORS for the origins listed in settings (none listed: no CORS header is ever sent)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._policy: _Policy | None = None

    def _policy_of(self, settings: Settings) -> _Policy:
        if self._policy is None:
            inner = self.app
            if settings.allowed_origins:
                inner = CORSMiddleware(
                    self.app,
                    allow_origins=settings.allowed_origins,
                    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                    allow_headers=["X-API-Key", "Content-Type"],
                )
            origins = frozenset(_origin(o) for o in settings.allowed_origins)
            self._policy = _Policy(served_hosts(settings), origins, inner)
        return self._policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        policy = self._policy_of(scope["app"].state.store.settings)
        hosts = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"host"]
        name = host_name(hosts[0]) if len(hosts) == 1 else None
        if name is None:
            detail = "the request needs one Host header, a name and at most a numeric port"
            await _refuse(send, scope, 400, "bad-request", "Bad request", detail)
            return
        if policy.served is not None and name not in policy.served:
            detail = (
                f"this API does not serve the host {name!r} (its operator can add names to "
                "LINEAGE_ALLOWED_HOSTS)"
            )
            await _refuse(send, scope, 421, "misdirected-request", "Misdirected request", detail)
            return
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            own = f"{scope.get('scheme', 'http')}://{hosts[0].strip().lower()}"
            check = _cross_site if scope["method"] in WRITES else _foreign_read
            refusal = check(headers, own, policy.origins)
            if refusal:
                await _refuse(send, scope, 403, "cross-site", "Forbidden", refusal)
                return
        await policy.app(scope, receive, send)


def _cross_site(headers: dict[str, str], own: str, origins: frozenset[str]) -> str | None:
    """Why a write is refused as coming from another site, or None."""
    origin = headers.get("origin")
    if origin is not None:
        origin = _origin(origin)
        if origin != own and origin not in origins:
            return (
                f"a write from the page at {origin!r} is refused: only the API's own origin ({own})"
                " and LINEAGE_ALLOWED_ORIGINS may write"
            )
        return None
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return "a write from another site is refused (Sec-Fetch-Site: cross-site)"
    return None


def _foreign_read(headers: dict[str, str], own: str, origins: frozenset[str]) -> str | None:
    """Why a read is refused as made by another site's page, or None."""
    site = headers.get("sec-fetch-site", "").lower()
    if site not in ("cross-site", "same-site") or headers.get("sec-fetch-mode", "").lower() == "navigate":
        return None
    if _origin(headers.get("origin", "")) in origins:
        return None
    return (
        f"a request made by a page of another origin is refused (Sec-Fetch-Site: {site}); list the "
        "origin in LINEAGE_ALLOWED_ORIGINS if its pages are to read the API"
    )


async def _refuse(send: Send, scope: Scope, status: int, kind: str, title: str, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps(problem_body(status, kind, title, detail, scope.get("path", ""))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
