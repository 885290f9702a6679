"""Hypothesis strategies that mutate documented Graph payloads into hostile ones.

Why this file exists: the rule "only ``m365_graph``'s own errors leave the engine,
one bad item is skipped and counted" is checked against payloads that start as
Microsoft's own examples (``fuzz_seeds``) and are then bent: values replaced by
other types, keys dropped or added, strings with NUL bytes and lone surrogates,
zone names that are not zones, dates out of range, absurdly deep nesting.
Every test runs derandomized and without an example database, so a run is
reproducible; ``FUZZ_EXAMPLES`` sets the examples per test.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Examples per fuzz test: 17 fuzz tests x 600 = 10,200 examples per ``make test``.
FUZZ_EXAMPLES = int(os.environ.get("M365_FUZZ_EXAMPLES", "600"))

FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ud83d",
    "😀",
    "\u202e",
    "W/",
    'W/""',
    "null",
    "x" * 5000,
    "<html><body>Bad gateway</body></html>",
    "../../etc/passwd",
    "/etc/passwd",
    "Europe",
    "Europe/Paris ",
    "zone.tab",
    "Etc/GMT+99",
    "Customized Time Zone",
    "tzdata.zi",
    "UTC+5",
    "W. Europe Standard Time",
    "Pacific Standard Time",
    "Romance Standard Time",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.9999999",
    "2024-02-30T10:00:00",
    "2024-05-01T25:00:00",
    "2024-05-01",
    "2024-05-01T09:00:00+14:00",
    "2024-05-01T09:00:00.00000000000000000001Z",
    "-1",
    "1e400",
    "NaN",
    "https://evil.example/v1.0/users?$skiptoken=x",
    "https://graph.microsoft.com:99999/v1.0/x",
    "https://[bad/v1.0",
    "https://graph.test/v1.0/x y",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
]


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for n in range(depth):
        value = [value] if n % 2 else {"x": value}
    return value


scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_TEXT),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
)

value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["dateTime", "timeZone", "id", "x", ""]), inner, max_size=3
        ),
    ),
    max_leaves=8,
) | st.sampled_from([_deep(70), _deep(200), {"dateTime": _deep(80), "timeZone": "UTC"}])


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, child in doc.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(doc, list):
        for index, child in enumerate(doc):
            out.extend(_paths(child, (*prefix, index)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw: st.DrawFn, seed: Any, max_mutations: int = 4) -> Any:
    """``seed`` with 0 to ``max_mutations`` random mutations (the root stays a copy)."""
    doc = copy.deepcopy(seed)
    for _ in range(draw(st.integers(0, max_mutations))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "insert", "text", "duplicate"]))
        if not path:
            if op == "replace":
                doc = copy.deepcopy(draw(value))
            continue
        parent = _get(doc, path[:-1])
        key = path[-1]
        if op == "replace":
            parent[key] = copy.deepcopy(draw(value))
        elif op == "delete":
            del parent[key]
        elif op == "insert" and isinstance(parent, dict):
            name = draw(st.sampled_from(["changeKey", "@odata.etag", "isAllDay", "@removed", "zz"]))
            parent[name] = copy.deepcopy(draw(value))
        elif op == "text":
            old = parent[key]
            nasty = draw(st.sampled_from(NASTY_TEXT))
            parent[key] = (old + nasty) if isinstance(old, str) else nasty
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return doc


def only_graph_errors(func, *args, **kwargs):
    """Run ``func``; return its value, or the ``GraphError`` it raised. Anything else fails."""
    from m365_graph.core.errors import GraphError

    try:
        return func(*args, **kwargs)
    except GraphError as exc:
        assert str(exc)  # a message in words, never empty
        return exc
