"""The engine never aborts a run on bad input, and never waits past its budget.

Each test names one bad-input class of the quality bars and proves its handling with a
fake transport (``fakes``) or Microsoft's documented examples (``fuzz_seeds``),
independent of what the sandbox emits. Nothing sleeps: waits are recorded and a
fake clock moves only when the fake sleep is called.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from m365_graph.core.config import TenantConfig
from m365_graph.core.errors import (
    AuthError,
    BadResponse,
    GraphError,
    GraphUnavailable,
    Throttled,
    error_from_response,
)
from m365_graph.core.retry import Budget, RetryPolicy, parse_retry_after
from m365_graph.core.text import clean_json, clean_text, decode_json
from m365_graph.core.timezones import parse_graph_datetime, resolve_zone
from m365_graph.core.types import BusySlot, GraphEvent
from m365_graph.identity.clients import GraphClient
from m365_graph.identity.connection import check_token_tenant
from m365_graph.resources.busytime import read_busy_times
from m365_graph.sync.workload import check_slot

from .. import fuzz_seeds as seeds
from ..fakes import FakeSession, FakeTokens, graph_error, response

BASE = "https://graph.microsoft.com/v1.0"


class Clock:
    """A clock that moves only when the policy sleeps."""

    def __init__(self):
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client_with(handler, clock, budget=None, **policy):
    retry = RetryPolicy(sleep=clock.sleep, clock=clock.time, rng=random.Random(1), **policy)
    session = FakeSession(handler)
    client = GraphClient(
        FakeTokens(), BASE, session=session, retry=retry, budget=budget or Budget()
    )
    return client, session


# ----------------------------------------------------------------- budget / breaker


def test_outage_from_part_way_on_stops_at_the_failure_threshold():
    """A busy cycle: Graph answers 503 from part-way on."""
    clock = Clock()
    answered = {"n": 0}

    def handler(call):
        answered["n"] += 1
        if answered["n"] <= 3:
            return response(200, {"value": []})
        return graph_error(503, "ServiceUnavailable")

    client, session = client_with(handler, clock, Budget(max_wait=60, max_failures=8))
    for _ in range(3):
        client.get_json("/users/a/calendarView")
    with pytest.raises(GraphUnavailable) as caught:
        for _ in range(50):
            try:
                client.get_json("/users/b/calendarView")
            except GraphUnavailable:
                raise
            except GraphError:
                continue  # the job would note this mailbox and go on
    err = caught.value
    assert "Microsoft Graph is unavailable" in str(err) and "next run resumes" in str(err)
    assert err.failures == 8
    assert sum(clock.slept) <= 60
    sent = len(session.calls)
    # Open: the next request fails at once, without a round trip.
    with pytest.raises(GraphUnavailable):
        client.get_json("/users/c/calendarView")
    assert len(session.calls) == sent


def test_retry_after_storm_stops_at_the_wait_budget():
    """An outbox drain: every request throttled with Retry-After: 10."""
    clock = Clock()

    def handler(call):
        return graph_error(429, "TooManyRequests", **{"Retry-After": "10"})

    client, session = client_with(
        handler, clock, Budget(max_wait=60, max_failures=None), max_attempts=6
    )
    outcomes = []
    with pytest.raises(GraphUnavailable) as caught:
        for _ in range(500):
            try:
                client.request("POST", "/me/events", json={}, retry_safe=True)
            except Throttled as exc:
                outcomes.append(exc)
    assert clock.slept == [10.0] * 6
    assert "budget of 60 s" in str(caught.value)
    # The first request used its 6 attempts (5 waits) and failed as throttled; the
    # second waited once more, and its next wait would have passed the budget.
    assert len(outcomes) == 1 and len(session.calls) == 8


def test_long_retry_after_is_not_waited_out():
    clock = Clock()
    client, _session = client_with(
        lambda call: graph_error(429, "TooManyRequests", **{"Retry-After": "3600"}), clock
    )
    with pytest.raises(Throttled) as caught:
        client.get_json("/me")
    assert caught.value.retry_after == 3600 and clock.slept == []


def test_success_resets_the_failure_count():
    budget = Budget(max_wait=None, max_failures=3)
    budget.failed()
    budget.failed()
    budget.succeeded()
    budget.failed()
    budget.failed()
    assert not budget.is_open
    budget.failed()
    assert budget.is_open and budget.opened == "failures"


def test_wait_budget_counts_failed_attempt_time():
    budget = Budget(max_wait=30, max_failures=None)
    budget.failed(seconds=25.0)  # a read time-out costs its time
    assert budget.allow_wait(5.0)
    assert not budget.allow_wait(0.5)
    assert budget.is_open and budget.opened == "wait"


def test_busy_reader_stops_for_graph_unavailable():
    clock = Clock()
    client, _ = client_with(
        lambda call: graph_error(503, "ServiceUnavailable"),
        clock,
        Budget(max_wait=60, max_failures=4),
        max_attempts=3,
    )
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    boxes = [f"u{n}@x" for n in range(60)]  # three $batch calls
    with pytest.raises(GraphUnavailable):
        read_busy_times(client, boxes, start, start + timedelta(days=1), workers=1)


# ----------------------------------------------------------------- Retry-After


def test_retry_after_as_http_date():
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(later, now.timestamp) == pytest.approx(42)
    past = format_datetime(now - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past, now.timestamp) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", lambda: 0.0) > 0
    for junk in ("soon", "NaN", "", "1e999x", "Fri, 99 Foo 2020"):
        assert parse_retry_after(junk) is None or parse_retry_after(junk) >= 0


def test_client_waits_for_an_http_date_retry_after():
    clock = Clock()
    when = format_datetime(datetime.fromtimestamp(clock.now + 7, tz=timezone.utc), usegmt=True)
    answers = [graph_error(503, "ServiceUnavailable", **{"Retry-After": when})]
    answers.append(response(200, {"id": "me"}))
    client, _ = client_with(answers, clock)
    assert client.get_json("/me") == {"id": "me"}
    assert clock.slept == [pytest.approx(7)]


# ----------------------------------------------------------------- error bodies


def test_inner_error_request_id_date_and_code():
    err = error_from_response(400, seeds.ERROR, {}, what="Uploading")
    assert err.code == "badRequest" and err.inner_code == "invalidRange"
    assert err.request_id == "request-id" and err.date == "date-time"
    assert "invalidRange" in str(err) and "date date-time" in str(err)
    batch_403 = seeds.BATCH_RESPONSE["responses"][2]["body"]
    err = error_from_response(403, batch_403, {}, permission="Calendars.Read")
    assert err.request_id == "93b6f17e-c05d-4f45-ad2a-6665c708d8a0"
    assert err.date == "2025-02-13T10:17:06"


def test_error_body_text_is_storable():
    body = {
        "error": {"code": "X\x00", "message": "bad \ud800 thing", "innerError": {"date": "\x00"}}
    }
    text = str(error_from_response(500, body, {"request-id": "r\ud800"}))
    assert "\x00" not in text
    text.encode("utf-8")


# ----------------------------------------------------------------- payloads


def test_change_key_falls_back_to_the_etag():
    event = GraphEvent.from_graph(seeds.EVENT)  # documented: @odata.etag, no changeKey
    assert event.change_key == "IiLKjG2I7E+Xv0+ys6MD0wAEd5/kNQ=="
    both = dict(seeds.EVENT, changeKey="explicit")
    assert GraphEvent.from_graph(both).change_key == "explicit"
    assert GraphEvent.from_graph({**seeds.EVENT, "@odata.etag": 'W/""'}).change_key is None


@pytest.mark.parametrize(
    "zone", ["W. Europe Standard Time", "Tokyo Standard Time", "Hawaiian Standard Time", "UTC"]
)
def test_all_day_events_in_any_zone_count(zone):
    slot = BusySlot.from_graph(
        {
            "id": "e1",
            "isAllDay": True,
            "showAs": "oof",
            "start": {"dateTime": "2024-05-01T00:00:00.0000000", "timeZone": zone},
            "end": {"dateTime": "2024-05-03T00:00:00.0000000", "timeZone": zone},
        }
    )
    assert check_slot(slot) is None
    assert slot.dates == (datetime(2024, 5, 1).date(), datetime(2024, 5, 3).date())


def test_all_day_event_off_midnight_on_the_wall_clock_is_still_refused():
    slot = BusySlot.from_graph(
        {
            "id": "e2",
            "isAllDay": True,
            "showAs": "oof",
            "start": {"dateTime": "2026-03-31T22:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-04-01T22:00:00.0000000", "timeZone": "UTC"},
        }
    )
    assert "midnight to midnight" in check_slot(slot)


@pytest.mark.parametrize(
    "zone",
    [
        "Europe",
        "zone.tab",
        "../../etc/passwd",
        "/etc/passwd",
        "a\x00b",
        "\ud800",
        "x" * 5000,
        "Customized Time Zone",
        "tzdata.zi",
        "",
        "  ",
    ],
)
def test_time_zone_names_that_are_not_zones(zone):
    if zone.strip() == "":
        assert parse_graph_datetime({"dateTime": "2024-05-01T09:00:00", "timeZone": zone}, "s")
        return
    with pytest.raises(ValueError):
        resolve_zone(zone)
    with pytest.raises(BadResponse, match="unknown time zone"):
        parse_graph_datetime({"dateTime": "2024-05-01T09:00:00", "timeZone": zone}, "start")


def test_dates_at_the_edge_of_time():
    with pytest.raises(BadResponse, match="out of range"):
        parse_graph_datetime(
            {"dateTime": "0001-01-01T00:00:00", "timeZone": "Tokyo Standard Time"}, "s"
        )


def test_nul_and_lone_surrogates_are_cleaned_once_at_decoding():
    raw = b'{"subject": "a\\u0000b\\ud800c", "k\\u0000": ["\\udfff"]}'
    assert decode_json(raw) == {"subject": "ab\ufffdc", "k": ["\ufffd"]}
    assert clean_text("plain") == "plain"


def test_absurdly_deep_json():
    with pytest.raises(ValueError, match="nested too deeply"):
        decode_json(b"[" * 100_000 + b"]" * 100_000)
    deep = decode_json(b'{"value": ' + b"[" * 200 + b"]" * 200 + b"}")
    depth, node = 0, deep["value"]
    while isinstance(node, list) and node:
        node, depth = node[0], depth + 1
    assert depth < 70  # cut off: nothing downstream recurses into it
    assert clean_json(deep) == deep

    clock = Clock()
    client, _ = client_with([response(200, raw=b"[" * 100_000 + b"]" * 100_000)], clock)
    with pytest.raises(BadResponse, match="nested too deeply"):
        client.get_json("/me")


# ----------------------------------------------------------------- delta links


def _delta_client(pages):
    clock = Clock()
    return client_with(list(pages), clock)


def _event(ident):
    return {**seeds.EVENT_FULL, "id": ident}


def test_next_link_to_another_host_is_never_a_resume_point():
    pages = [
        response(
            200,
            {
                "value": [_event("a")],
                "@odata.nextLink": f"{BASE}/me/calendarView/delta?$skiptoken=2",
            },
        ),
        response(
            200,
            {"value": [_event("b")], "@odata.nextLink": "https://evil.example/v1.0/x?$skiptoken=3"},
        ),
    ]
    client, session = _delta_client(pages)
    result = client.delta_round("/me/calendarView/delta", parse=GraphEvent.from_graph)
    assert not result.complete and result.next_link is None
    assert isinstance(result.error, BadResponse) and result.error.link_refused
    assert [e.id for e in result.items] == ["a", "b"]
    assert all("evil" not in c.url for c in session.calls)


def test_next_link_that_repeats_forever_is_detected():
    loop = f"{BASE}/me/calendarView/delta?$skiptoken=again"
    pages = [response(200, {"value": [_event("a")], "@odata.nextLink": loop}) for _ in range(5)]
    client, session = _delta_client(pages)
    result = client.delta_round("/me/calendarView/delta", parse=GraphEvent.from_graph)
    assert not result.complete and result.next_link is None
    assert "already given" in str(result.error)
    assert len(session.calls) == 2


def test_a_malformed_next_link_url_is_refused_in_words():
    client, _ = _delta_client([])
    for link in ("https://[bad/v1.0", "https://graph.microsoft.com:99999/v1.0/x", f"{BASE}/x y"):
        with pytest.raises(BadResponse) as caught:
            client.absolute(link)
        assert caught.value.link_refused


def test_one_bad_item_never_stops_the_round():
    pages = [
        response(
            200,
            {
                "value": [
                    _event("a"),
                    {**_event("b"), "start": {"dateTime": "x", "timeZone": "Nowhere/Zone"}},
                    "not an object",
                    {**_event("c"), "subject": "a\u0000b"},
                ],
                "@odata.deltaLink": f"{BASE}/me/calendarView/delta?$deltatoken=1",
            },
        )
    ]
    client, _ = _delta_client(pages)
    result = client.delta_round("/me/calendarView/delta", parse=GraphEvent.from_graph)
    assert result.complete
    assert [e.id for e in result.items] == ["a", "c"]
    assert result.items[1].subject == "ab"
    assert len(result.skipped) == 2


# ----------------------------------------------------------------- tenant of the token


def _config(tenant):
    return TenantConfig(tenant, "client", "secret")


def test_token_of_another_tenant_fails_test_connection():
    mine = "11111111-2222-3333-4444-555555555555"
    other = "99999999-2222-3333-4444-555555555555"
    check_token_tenant({"tid": mine.upper()}, _config(mine))
    with pytest.raises(AuthError, match="not of the configured tenant"):
        check_token_tenant({"tid": other}, _config(mine))
    with pytest.raises(AuthError, match="names no tenant"):
        check_token_tenant({}, _config(mine))
    with pytest.raises(AuthError, match="is not a tenant"):
        check_token_tenant({"tid": other}, _config("organizations"))
    check_token_tenant({"tid": other}, _config("contoso.onmicrosoft.com"))


def test_connection_check_with_a_foreign_tenant_token():
    """The identity platform answers with a token of another tenant: Test connection fails."""
    from m365_graph.identity.connection import check_connection

    from .test_fuzz_client import AUTHORITY, TENANT, _identity_session, _jwt

    foreign = _jwt({"tid": "99999999-2222-3333-4444-555555555555", "roles": ["User.Read.All"]})
    session = _identity_session(
        [(200, "none", {**seeds.TOKEN_RESPONSE, "access_token": foreign}, {})]
    )
    with pytest.raises(AuthError, match="issued a token of tenant 99999999"):
        check_connection(TENANT, "client-id", "secret", AUTHORITY, BASE, session=session)
    assert not [c for c in session.calls if c.url.startswith(BASE)], "Graph never called"


# ----------------------------------------------------------------- outbox decisions


def test_outbox_waits_for_graph_without_sending_more():
    from m365_graph.resources.outbox import push_operations
    from m365_graph.sync.outbox import WAIT_GRAPH, PushOperation, classify

    clock = Clock()
    client, session = client_with(
        lambda call: graph_error(503, "ServiceUnavailable"),
        clock,
        Budget(max_wait=45, max_failures=6),
        max_attempts=3,
    )
    ops = [
        PushOperation(str(n), "create", {"subject": "x"}, transaction_id=f"t{n}")
        for n in range(100)
    ]
    results = push_operations(client, "me", ops)
    assert len(results) == 100
    assert len(session.calls) == 6  # two $batch calls of 3 attempts, then the breaker
    kinds = [classify(r.error) for r in results]
    assert kinds[:40] == ["retry"] * 40
    assert kinds[40:] == [WAIT_GRAPH] * 60
