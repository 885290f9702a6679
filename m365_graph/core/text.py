"""Text and JSON from Microsoft made safe to store: no lone surrogates, no NUL, no abyss.

Why this file exists: JSON may carry ``"\\ud800"`` (a lone UTF-16 surrogate) and
``"\\u0000"`` in any string, and Python's decoder accepts both. Neither can be
stored: PostgreSQL refuses NUL in text, and a lone surrogate cannot be encoded to
UTF-8 — the ORM write fails deep inside a job, far from the item that caused it.
Absurdly deep JSON is the third trap: Python's decoder raises ``RecursionError``
and so would every recursive walk over it. :func:`decode_json` handles all three
once, where Graph's answers are decoded, so everything downstream sees clean text
and shallow structures.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_DEPTH", "JSONTooDeep", "clean_json", "clean_text", "decode_json"]

#: Deepest nesting kept from a Graph answer; Graph's own objects are under 10 levels.
MAX_DEPTH = 64

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
# What a NUL or a surrogate looks like in JSON bytes: an escape, or raw UTF-8 of a
# surrogate (json.loads decodes bytes with "surrogatepass").
_BAD_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]|\x00")


class JSONTooDeep(ValueError):
    """The JSON nests deeper than Python's decoder (or :data:`MAX_DEPTH`) allows."""


def clean_text(value: str) -> str:
    """``value`` without NUL characters, lone surrogates replaced by U+FFFD."""
    if not _BAD_CHARS.search(value):
        return value
    return _BAD_CHARS.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def clean_json(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of decoded JSON with clean strings (keys too), without recursion.

    Containers nested deeper than ``max_depth`` are replaced by ``None``: no Graph
    field is that deep, so the item they belong to fails its own checks (and is
    skipped and counted) instead of crashing a recursive walk later.
    """
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [None]
    # (parent container, key or index, value, depth)
    stack: list[tuple[Any, Any, Any, int]] = [(root, 0, value, 0)]
    while stack:
        parent, key, item, depth = stack.pop()
        if isinstance(item, str):
            parent[key] = clean_text(item)
        elif isinstance(item, dict):
            if depth >= max_depth:
                parent[key] = None
                continue
            copy: dict[str, Any] = {}
            parent[key] = copy
            for name, child in item.items():
                clean_name = clean_text(name) if isinstance(name, str) else name
                copy[clean_name] = None
                stack.append((copy, clean_name, child, depth + 1))
        elif isinstance(item, list):
            if depth >= max_depth:
                parent[key] = None
                continue
            copy_list: list[Any] = [None] * len(item)
            parent[key] = copy_list
            for index, child in enumerate(item):
                stack.append((copy_list, index, child, depth + 1))
        else:
            parent[key] = item
    return root[0]


def _too_deep(value: Any, max_depth: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= max_depth:
                return True
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            if depth >= max_depth:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


def decode_json(content: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that returns clean, shallow data or raises ``ValueError``.

    ``ValueError`` (``JSONTooDeep`` for nesting) covers every way the content can be
    unusable: invalid JSON, invalid UTF-8, nesting too deep for the decoder.
    """
    try:
        value = json.loads(content)
    except RecursionError as exc:
        raise JSONTooDeep("the JSON is nested too deeply to be read") from exc
    raw = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    if _BAD_JSON.search(raw) or (
        raw.count(b"[") + raw.count(b"{") > max_depth and _too_deep(value, max_depth)
    ):
        return clean_json(value, max_depth)
    return value
