"""GS1 identifiers in their two spellings, EPC URNs and GS1 Digital Link URIs, made one key.

The same pallet arrives as ``urn:epc:id:sscc:0614141.1234567890`` from one partner and as
``https://id.gs1.org/00/106141412345678908`` from another; the same lot of a product as
``urn:epc:class:lgtin:4012345.012345.998877`` or ``https://example.com/01/04012345123456/10/998877``.
:func:`canonical` turns each into the GS1 Digital Link form on ``id.gs1.org`` (any host of a Digital
Link names the same key), computing the check digit a URN leaves out, so that both resolve to one
node. Schemes with no Digital Link mapping here are kept as they are written.

:func:`kind` tells what a key is: an ``instance`` (one item, one pallet: sgtin, sscc, giai, grai
with serial, ...), a ``lot`` (a class with a lot or batch number: lgtin), a ``class`` (a product,
every item of it: gtin, idpat), a ``location`` or ``party`` (sgln, pgln), or ``other``.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import unquote, urlsplit

DL_HOST = "https://id.gs1.org"
Kind = Literal["instance", "lot", "class", "location", "other"]


class IdentifierError(ValueError):
    """An identifier that claims a GS1 scheme but breaks its syntax."""


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of ``digits`` (weights 3 and 1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _parts(body: str, count: int, scheme: str, text: str) -> list[str]:
    parts = body.split(".")
    if len(parts) != count or not all(parts[: count - 1]):
        raise IdentifierError(f"{text!r}: a {scheme} URN has {count} dot-separated parts")
    return parts


def _digits(value: str, what: str, text: str) -> str:
    if not value.isdigit():
        raise IdentifierError(f"{text!r}: the {what} must be digits, not {value!r}")
    return value


def _gtin(prefix: str, item: str, text: str) -> str:
    """GTIN-14 from a URN's company prefix and item reference (its first digit is the indicator)."""
    _digits(prefix, "company prefix", text)
    _digits(item, "item reference", text)
    if len(prefix) + len(item) != 13:
        raise IdentifierError(f"{text!r}: company prefix and item reference must have 13 digits together")
    body = item[0] + prefix + item[1:]
    return body + check_digit(body)


def _with_check(digits: str, length: int, what: str, text: str) -> str:
    _digits(digits, what, text)
    if len(digits) != length - 1:
        raise IdentifierError(f"{text!r}: the {what} must have {length - 1} digits before its check digit")
    return digits + check_digit(digits)


def _urn(text: str) -> str:
    scheme_part = text[len("urn:epc:") :]
    space, _, rest = scheme_part.partition(":")
    scheme, _, body = rest.partition(":")
    body = unquote(body)
    if space == "id":
        if scheme == "sgtin":
            prefix, item, serial = _parts(body, 3, scheme, text)
            return f"{DL_HOST}/01/{_gtin(prefix, item, text)}/21/{serial}"
        if scheme == "sscc":
            prefix, serial = _parts(body, 2, scheme, text)
            return f"{DL_HOST}/00/{_with_check(serial[:1] + prefix + serial[1:], 18, 'SSCC', text)}"
        if scheme in ("sgln", "pgln"):
            parts = body.split(".")
            prefix, location = parts[0], parts[1] if len(parts) > 1 else ""
            gln = _with_check(prefix + location, 13, "GLN", text)
            extension = parts[2] if scheme == "sgln" and len(parts) > 2 else "0"
            ai = "414" if scheme == "sgln" else "417"
            return f"{DL_HOST}/{ai}/{gln}" + (f"/254/{extension}" if extension != "0" else "")
        if scheme == "grai":
            prefix, asset, serial = _parts(body, 3, scheme, text)
            grai = _with_check("0" + prefix + asset, 14, "GRAI", text)
            return f"{DL_HOST}/8003/{grai}{serial}"
        if scheme == "giai":
            prefix, asset = _parts(body, 2, scheme, text)
            return f"{DL_HOST}/8004/{_digits(prefix, 'company prefix', text)}{asset}"
        if scheme == "gsrn":
            prefix, service = _parts(body, 2, scheme, text)
            return f"{DL_HOST}/8018/{_with_check(prefix + service, 18, 'GSRN', text)}"
        if scheme == "gdti":
            prefix, document, serial = _parts(body, 3, scheme, text)
            return f"{DL_HOST}/253/{_with_check(prefix + document, 13, 'GDTI', text)}{serial}"
    if space == "class" and scheme == "lgtin":
        prefix, item, lot = _parts(body, 3, scheme, text)
        return f"{DL_HOST}/01/{_gtin(prefix, item, text)}/10/{lot}"
    if space == "idpat" and scheme == "sgtin":
        prefix, item, star = _parts(body, 3, scheme, text)
        if star != "*":
            raise IdentifierError(f"{text!r}: an sgtin pattern ends in '*'")
        return f"{DL_HOST}/01/{_gtin(prefix, item, text)}"
    return text


_DL_PATH = re.compile(r"^(?:/[^/]+)*?/(01|00|414|417|8003|8004|8018|253)/([^/]+)(/.*)?$")


def _digital_link(text: str) -> str:
    parts = urlsplit(text)
    match = _DL_PATH.match(parts.path)
    if match is None:
        return text
    ai, key, rest = match.group(1), unquote(match.group(2)), match.group(3) or ""
    qualifiers = rest.strip("/").split("/") if rest else []
    if len(qualifiers) % 2:
        raise IdentifierError(f"{text!r}: a Digital Link's qualifiers come in pairs (AI/value)")
    pairs = dict(zip(qualifiers[::2], (unquote(v) for v in qualifiers[1::2]), strict=True))
    if ai == "01":
        key = _digits(key, "GTIN", text).zfill(14)
        if len(key) != 14 or check_digit(key[:-1]) != key[-1]:
            raise IdentifierError(f"{text!r}: {key} is not a valid GTIN (check digit)")
        for qualifier in ("21", "10"):  # a serial names the item; else a lot names the lot
            if qualifier in pairs:
                return f"{DL_HOST}/01/{key}/{qualifier}/{pairs[qualifier]}"
        return f"{DL_HOST}/01/{key}"
    if ai == "414" and pairs.get("254", "0") != "0":
        return f"{DL_HOST}/414/{key}/254/{pairs['254']}"
    return f"{DL_HOST}/{ai}/{key}"


def canonical(identifier: str) -> str:
    """One spelling per key: a GS1 Digital Link on id.gs1.org where the scheme has one."""
    text = identifier.strip()
    if text.startswith("urn:epc:"):
        return _urn(text)
    if text.startswith(("https://", "http://")):
        return _digital_link(text)
    return text


def key_of(identifier: str) -> str:
    """:func:`canonical`, or the identifier as given where it is a GS1 key that is not well formed
    (a wrong digit count, say): kept as an opaque identifier, as EPCIS allows any URI."""
    try:
        return canonical(identifier)
    except IdentifierError:
        return identifier.strip()


def kind(key: str) -> Kind:
    """What a canonical key names (see the module docstring)."""
    if not key.startswith(DL_HOST + "/"):
        return "other"
    path = key[len(DL_HOST) + 1 :].split("/")
    ai = path[0]
    if ai == "01":
        if len(path) >= 4 and path[2] == "21":
            return "instance"
        if len(path) >= 4 and path[2] == "10":
            return "lot"
        return "class"
    if ai in ("414", "417"):
        return "location"
    return "instance"
