"""Who is asking, and what their key lets them do.

Keys come from settings (``LINEAGE_API_KEYS``) and from a keys file (``LINEAGE_API_KEYS_FILE``),
read again whenever it changes, so keys are rotated without a restart. Each key is held only as its
SHA-256 digest (settings may give the digest itself, ``sha256:<hex>``) and compared in constant
time against every one. ``/health`` and ``/lookup`` are public. With no keys at all every route is
open: that is for one person on one machine, and ``lineage serve`` then binds only to loopback while
``api.guard`` refuses foreign hosts and cross-site writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from pydantic import SecretStr, TypeAdapter, ValidationError

from lineage.config import DIGEST_PREFIX, KeyGrant, Role, Settings

log = logging.getLogger("lineage.api")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key from settings")
_GRANTS = TypeAdapter(dict[SecretStr, Role | KeyGrant])


@dataclass(frozen=True)
class Caller:
    """The key a request came with: its role, the name the audit log gives it, and for a supplier's
    key the supplier's uid. ``role`` is None when no keys are configured (everything is open)."""

    role: Role | None
    label: str
    supplier: str | None = None


OPEN = Caller(None, "no key")


@dataclass(frozen=True)
class _Key:
    digest: bytes
    grant: KeyGrant


def _keys(grants: dict[SecretStr, Role | KeyGrant], where: str) -> list[_Key]:
    keys = []
    for secret, given in grants.items():
        grant = given if isinstance(given, KeyGrant) else KeyGrant(role=given)
        text = secret.get_secret_value()
        if text.startswith(DIGEST_PREFIX):
            hexdigest = text.removeprefix(DIGEST_PREFIX).lower()
            if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
                raise ValueError(f"{where}: a key given as {DIGEST_PREFIX}... needs 64 hex digits")
            digest = bytes.fromhex(hexdigest)
        elif len(text) < 8:
            raise ValueError(f"{where}: an API key needs at least 8 characters")
        else:
            digest = hashlib.sha256(text.encode()).digest()
        if grant.label is None:
            grant = grant.model_copy(update={"label": f"{grant.role}#{digest.hex()[:8]}"})
        keys.append(_Key(digest, grant))
    return keys


class Keyring:
    """Every configured key; the keys file's part is read again when its size or time changes. A
    file that no longer reads leaves the keys it held before in force (and says so in the log)."""

    def __init__(self, settings: Settings) -> None:
        self._fixed = _keys(settings.api_keys, "LINEAGE_API_KEYS")
        self._path = settings.api_keys_file
        self._required = settings.keys_required
        self._stamp: tuple[int, int] | None = None
        self._from_file: list[_Key] = []
        self._lock = threading.Lock()
        if self._path is not None:
            self._reload(strict=True)

    def _reload(self, strict: bool = False) -> None:
        assert self._path is not None
        try:
            stat = os.stat(self._path)
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._stamp:
                return
            grants = _GRANTS.validate_python(json.loads(self._path.read_bytes()))
            self._from_file, self._stamp = _keys(grants, str(self._path)), stamp
            log.info("API keys read from %s: %d", self._path, len(self._from_file))
        except (OSError, ValueError, ValidationError) as e:
            message = f"the API keys file {self._path} cannot be used: {str(e).splitlines()[0]}"
            if strict:
                raise ValueError(message) from None
            log.error("%s; the keys read before stay in force", message)
            self._stamp = None  # tried again at the next request

    def current(self) -> list[_Key]:
        if self._path is not None:
            with self._lock:
                self._reload()
        return self._fixed + self._from_file

    def configured(self) -> bool:
        """Whether keys are required (:attr:`Settings.keys_required`)."""
        return self._required

    def caller(self, key: str | None) -> Caller | None:
        """The caller a key makes; None for a key that is not configured."""
        if key is None:
            return None
        digest = hashlib.sha256(key.encode()).digest()
        found: _Key | None = None
        for candidate in self.current():
            if hmac.compare_digest(candidate.digest, digest):
                found = candidate
        if found is None:
            return None
        grant = found.grant
        assert grant.label is not None  # every key has one (:func:`_keys`)
        return Caller(grant.role, grant.label, grant.supplier)


def keyring(request: Request) -> Keyring:
    return request.app.state.keyring  # type: ignore[no-any-return]


async def caller(request: Request, key: Annotated[str | None, Depends(api_key_header)]) -> Caller:
    """The request's caller; 401 when keys are configured and none or a wrong one was sent."""
    keys = keyring(request)
    if not keys.configured():
        return OPEN
    found = keys.caller(key)
    if found is None:
        detail = "no API key given" if key is None else "the API key is not valid"
        raise HTTPException(
            401, f"{detail}; send one in the X-API-Key header", headers={"WWW-Authenticate": "APIKey"}
        )
    return found


def require(*roles: Role) -> Callable[..., Awaitable[None]]:
    """A dependency that lets through the keys of ``roles`` (and everyone when no keys are set)."""

    async def check(who: Annotated[Caller, Depends(caller)]) -> None:
        if who.role is not None and who.role not in roles:
            raise HTTPException(
                403, f"this needs a key with the role {' or '.join(roles)}; the key given has {who.role}"
            )

    return check
