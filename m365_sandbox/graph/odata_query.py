"""OData query options, ``Prefer`` header and paging links shared by all endpoints.

Graph paging is link-driven: a page carries ``@odata.nextLink`` (an absolute
URL with an opaque ``$skiptoken`` or, for Outlook lists, ``$skip``) until the
last one, and delta rounds end with ``@odata.deltaLink`` (``$deltatoken``).
Clients must follow links verbatim, so the sandbox keeps its tokens opaque
(base64url JSON) and never lets a client compute them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote, urlencode

from ..tenant.service_errors import GraphError

_PREFER_ITEM = re.compile(r'\s*([A-Za-z][\w.\-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,;]*))?\s*')


def parse_prefer(values: list[str]) -> dict[str, str]:
    """Parse one or more ``Prefer`` headers into {name: value} (quotes removed).

    ``Prefer: outlook.timezone="Pacific Standard Time", odata.maxpagesize=5``
    → ``{"outlook.timezone": "Pacific Standard Time", "odata.maxpagesize": "5"}``.
    Names are kept as sent but looked up case-insensitively by :func:`prefer_get`.
    """
    result: dict[str, str] = {}
    for header in values:
        for part in _split_prefer(header):
            match = _PREFER_ITEM.fullmatch(part)
            if not match:
                continue
            name, value = match.group(1), (match.group(2) or "").strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            result[name] = value
    return result


def _split_prefer(header: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def prefer_get(prefer: dict[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in prefer.items():
        if key.lower() == lowered:
            return value
    return None


def parse_select(value: str | None, allowed: frozenset[str] | None, type_name: str, code: str):
    """``$select=a,b`` → ["a", "b"]; an unknown name is a 400 like Graph's."""
    if value is None or not value.strip():
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if allowed is not None:
        lowered = {a.lower(): a for a in allowed}
        result = []
        for name in names:
            canonical = lowered.get(name.lower())
            if canonical is None:
                raise GraphError(
                    400, code, f"Could not find a property named '{name}' on type '{type_name}'."
                )
            result.append(canonical)
        return result
    return names


def parse_int(value: str | None, name: str, minimum: int = 0, maximum: int | None = None):
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise GraphError(400, "BadRequest", f"Invalid value '{value}' for {name}.") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise GraphError(
            400,
            "BadRequest",
            f"Invalid value '{value}' for {name}: it must be between {minimum} and {maximum}.",
        )
    return number


def page_size(query: dict, prefer: dict, default: int, maximum: int) -> tuple[int, bool]:
    """Effective page size from ``$top`` or ``Prefer: odata.maxpagesize``.

    Returns (size, preference_applied).
    """
    top = parse_int(query.get("$top"), "$top", 1, maximum)
    if top is not None:
        return top, False
    wanted = prefer_get(prefer, "odata.maxpagesize")
    if wanted:
        try:
            size = int(wanted)
        except ValueError:
            return default, False
        if size >= 1:
            return min(size, maximum), True
    return default, False


def encode_token(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None) -> dict | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None


def link(base: str, path: str, params: dict) -> str:
    """An absolute Graph link; ``$`` and ``,`` stay readable like Graph's own links."""
    query = urlencode(
        [(k, v) for k, v in params.items() if v is not None], safe="$,'()/:", quote_via=quote
    )
    return f"{base}{path}?{query}" if query else f"{base}{path}"
