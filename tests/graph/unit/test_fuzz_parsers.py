"""Fuzz: every parser of Graph and identity-platform answers, on mutated documented payloads.

The rule ("an engine that never aborts a run on bad input"): a parser either
returns a typed result or raises one of ``m365_graph``'s own errors, and code that
reads many items skips and counts a bad one. Seeds are Microsoft's examples
(``fuzz_seeds``); ``fuzz.FUZZ`` sets the examples per test.
"""

from __future__ import annotations

import base64
import contextlib
import json

from hypothesis import given
from hypothesis import strategies as st

from m365_graph.core.batch import parse_batch_body
from m365_graph.core.delta import DeltaAccumulator
from m365_graph.core.errors import (
    AuthError,
    BadResponse,
    GraphError,
    error_from_identity,
    error_from_response,
)
from m365_graph.core.paging import parse_page
from m365_graph.core.retry import parse_retry_after
from m365_graph.core.text import clean_json, decode_json
from m365_graph.core.timezones import parse_graph_datetime, resolve_zone
from m365_graph.core.types import BatchResponse, BusySlot, GraphEvent, GraphUser
from m365_graph.identity.claims import decode_claims
from m365_graph.sync.workload import prepare_slots

from .. import fuzz_seeds as seeds
from ..fuzz import FUZZ, NASTY_TEXT, mutated, only_graph_errors, value

EVENTS = st.sampled_from([seeds.EVENT, seeds.EVENT_FULL]).flatmap(mutated)


def _storable(text: str) -> None:
    """What PostgreSQL accepts: UTF-8-encodable text without NUL."""
    assert "\x00" not in text
    text.encode("utf-8")


def _walk_strings(obj):
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


@FUZZ
@given(EVENTS)
def test_fuzz_event_parser(doc):
    result = only_graph_errors(GraphEvent.from_graph, doc)
    if isinstance(result, GraphError):
        assert isinstance(result, BadResponse)
        return
    assert result.start.tzinfo is not None and result.end.tzinfo is not None
    if result.change_key is not None:
        assert result.change_key and not result.change_key.startswith(("W/", '"'))


@FUZZ
@given(EVENTS)
def test_fuzz_busy_slot_parser_and_workload(doc):
    result = only_graph_errors(BusySlot.from_graph, doc)
    if isinstance(result, GraphError):
        assert isinstance(result, BadResponse)
        return
    assert result.end >= result.start
    kept, skipped = prepare_slots([result])
    assert len(kept) + len(skipped) == 1


@FUZZ
@given(st.sampled_from(seeds.USER_DELTA_PAGE["value"]).flatmap(mutated))
def test_fuzz_user_parser(doc):
    result = only_graph_errors(GraphUser.from_graph, doc)
    if isinstance(result, GraphError):
        assert isinstance(result, BadResponse)


PAGES = st.sampled_from(
    [seeds.EVENT_DELTA_PAGE, seeds.EVENT_DELTA_LAST_PAGE, seeds.USER_DELTA_PAGE]
).flatmap(lambda seed: mutated(seed, max_mutations=6))


@FUZZ
@given(st.lists(PAGES, min_size=1, max_size=3))
def test_fuzz_delta_pages_skip_and_count(pages):
    """Every item of every page is an item, a removal or a counted skip — never a crash."""
    acc = DeltaAccumulator("Reading the fuzz delta")
    raw_items = []
    for body in pages:
        page = only_graph_errors(parse_page, body, "fuzz")
        if isinstance(page, GraphError):
            assert isinstance(page, BadResponse)
            continue
        raw_items.extend(page.items)
        acc.add_page(page)
    result = acc.result(GraphEvent.from_graph)
    ids = {
        i["id"]
        for i in raw_items
        if isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"]
    }
    bad = sum(
        1
        for i in raw_items
        if not (isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"])
    )
    assert len(result.items) + len(result.removed) + len(result.skipped) == len(ids) + bad
    for skipped in result.skipped:
        assert skipped.reason


@FUZZ
@given(mutated(seeds.BATCH_RESPONSE, max_mutations=6))
def test_fuzz_batch_body(body):
    expected = {"1", "2", "3"}
    answers = only_graph_errors(parse_batch_body, body, expected, "fuzz batch")
    if isinstance(answers, GraphError):
        assert isinstance(answers, BadResponse)
        return
    assert set(answers) == expected  # every request has an answer, real or stand-in
    for ident, answer in answers.items():
        response = BatchResponse(ident, answer["status"], answer["headers"], answer["body"])
        error = response.error("fuzz item")
        assert error is None or (isinstance(error, GraphError) and str(error))


STATUSES = st.sampled_from([400, 401, 403, 404, 409, 410, 412, 424, 429, 500, 502, 503, 504])


@FUZZ
@given(
    STATUSES,
    mutated(seeds.ERROR, max_mutations=5),
    st.dictionaries(
        st.sampled_from(["request-id", "Retry-After", "date", "client-request-id", "x"]),
        st.sampled_from(NASTY_TEXT),
        max_size=3,
    ),
    st.booleans(),
)
def test_fuzz_error_bodies(status, body, headers, as_bytes):
    """An error body of any shape maps to a taxonomy error with a storable message."""
    raw = json.dumps(body).encode() if as_bytes else body
    error = error_from_response(status, raw, headers, what="fuzz")
    assert isinstance(error, GraphError)
    text = str(error)
    _storable(text)
    assert len(text) < 3000


@FUZZ
@given(st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40), value))
def test_fuzz_retry_after(raw):
    wait = parse_retry_after(raw if isinstance(raw, (str, int, float)) else str(raw), lambda: 1e9)
    assert wait is None or (0.0 <= wait <= 10.0**9)


@FUZZ
@given(
    st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=60)),
    st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=60), value),
)
def test_fuzz_time_zones_and_dates(zone, when):
    with contextlib.suppress(ValueError):
        resolve_zone(zone)
    result = only_graph_errors(parse_graph_datetime, {"dateTime": when, "timeZone": zone}, "start")
    if isinstance(result, GraphError):
        assert isinstance(result, BadResponse) and result.field.startswith("start")
    else:
        assert result.tzinfo is not None


@FUZZ
@given(
    mutated(seeds.TOKEN_ERROR, max_mutations=5),
    st.booleans(),
)
def test_fuzz_identity_errors(body, as_text):
    error = error_from_identity(json.dumps(body) if as_text else body, tenant="t", client_id="c")
    assert isinstance(error, AuthError) and str(error)


@FUZZ
@given(st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=80), st.binary(max_size=60)))
def test_fuzz_token_claims(token):
    if isinstance(token, bytes):
        token = ".".join(token.hex()[i : i + 8] for i in (0, 8, 16))
    elif token == "x" * 5000:  # stands for a token whose claims nest absurdly deep
        deep = base64.urlsafe_b64encode(b'{"a":' * 3000 + b"1" + b"}" * 3000).decode()
        token = f"eyJhbGciOiJub25lIn0.{deep.rstrip('=')}.sig"
    result = only_graph_errors(decode_claims, token)
    assert isinstance(result, (dict, BadResponse))


@FUZZ
@given(
    st.sampled_from([seeds.EVENT, seeds.BATCH_RESPONSE, seeds.USER_DELTA_PAGE]).flatmap(mutated),
    st.sampled_from(["none", "nul", "surrogate", "deep", "truncate", "garbage"]),
)
def test_fuzz_json_decoding(doc, damage):
    """Any bytes Graph may send decode to clean data or a ValueError — never anything else."""
    raw = json.dumps(doc).encode()
    if damage == "nul":
        raw = raw.replace(b'"', b'"\\u0000', 3)
    elif damage == "surrogate":
        raw = raw.replace(b'"', b'"\\udc00', 3)
    elif damage == "deep":
        raw = b"[" * 5000 + raw + b"]" * 5000
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "garbage":
        raw = b"\xff\xfe" + raw
    try:
        decoded = decode_json(raw)
    except ValueError:
        return
    for text in _walk_strings(decoded):
        _storable(text)
    assert clean_json(decoded) == decoded


def test_every_run_fuzzes_at_least_ten_thousand_examples():
    """The quality bar is ≥ 10,000 examples per ``make test`` across all parsers."""
    import os

    from . import test_fuzz_client

    total = 0
    for module in (test_fuzz_client, globals()):
        names = module if isinstance(module, dict) else vars(module)
        for test in list(names.values()):
            settings_ = getattr(test, "_hypothesis_internal_use_settings", None)
            if getattr(test, "is_hypothesis_test", False) and settings_ is not None:
                total += settings_.max_examples
    if "M365_FUZZ_EXAMPLES" not in os.environ:
        assert total >= 10_000, total
    assert total > 0
