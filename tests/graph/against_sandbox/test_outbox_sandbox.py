"""Outbox operations against the sandbox: batched creates that are never doubled, 429
storms and outages inside ``$batch``, If-Match and 412, deletes of vanished events,
and the occurrences of a series."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from m365_graph.core.errors import NotFound, PreconditionFailed, Transient
from m365_graph.resources.events import get_event, list_instances, update_event
from m365_graph.resources.outbox import LANES, push_operations
from m365_graph.sync.outbox import PushOperation
from m365_graph.sync.push import Appointment, build_payload
from m365_graph.sync.recurrence import Recurrence

ADELE = "adele.vance@contoso.onmicrosoft.com"
UTC = timezone.utc
BASE = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)


def body(subject, hours=0, **values):
    start = BASE + timedelta(hours=hours)
    return build_payload(
        Appointment(
            subject, start, start + timedelta(minutes=30), time_zone="Europe/Paris", **values
        )
    ).payload


def creates(count, prefix="tx"):
    return [
        PushOperation(str(i), "create", body(f"Event {i}", i), transaction_id=f"{prefix}-{i}")
        for i in range(count)
    ]


def test_creates_go_20_per_round_trip(sb, app_client):
    results = push_operations(app_client, ADELE, creates(45))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert [r.key for r in results] == [str(i) for i in range(45)]
    assert len(sb.state.events(ADELE)) == 45
    posts = [r for r in sb.log if r.path.endswith("/$batch")]
    assert len(posts) == 3
    event = results[0].event
    assert event.subject == "Event 0"
    assert event.transaction_id == "tx-0"
    assert event.change_key


def test_resending_after_a_lost_answer_creates_nothing_twice(sb, app_client):
    # Graph applies the batch, then the connection drops before the answer arrives.
    sb.faults.add(kind="drop_after", path=r"/\$batch$", status=200, times=1)
    results = push_operations(app_client, ADELE, creates(5))
    assert all(r.ok for r in results)
    assert len(sb.state.events(ADELE)) == 5, "exactly one event per transactionId"
    # And a later drain that sends the same creations again changes nothing either.
    again = push_operations(app_client, ADELE, creates(5))
    assert [r.event.id for r in again] == [r.event.id for r in results]
    assert len(sb.state.events(ADELE)) == 5


def test_a_429_storm_inside_the_batch_is_retried_item_by_item(sb, app_client, waits):
    sb.faults.add(status=429, path=r"/events$", in_batch=True, times=3, retry_after=2)
    results = push_operations(app_client, ADELE, creates(4))
    assert all(r.ok for r in results)
    assert len(sb.state.events(ADELE)) == 4
    assert 2 in waits, "Retry-After of the sub-responses was honoured"


def test_a_long_outage_is_reported_on_every_operation(sb, app_client):
    sb.faults.add(status=503, path=r"/\$batch$", times=None)
    results = push_operations(app_client, ADELE, creates(3))
    assert [type(r.error) for r in results] == [Transient] * 3
    sb.faults.clear()
    assert len(sb.state.events(ADELE)) == 0


def test_update_with_if_match_and_412(sb, app_client):
    [created] = push_operations(app_client, ADELE, creates(1))
    event = created.event
    [ok] = push_operations(
        app_client,
        ADELE,
        [
            PushOperation(
                "u", "update", body("Renamed"), event_id=event.id, change_key=event.change_key
            )
        ],
    )
    assert ok.event.subject == "Renamed"
    assert ok.event.change_key != event.change_key
    # Someone changes it in Outlook: our change key is stale.
    sb.state.update_event(ADELE, event.id, subject="Changed in Outlook")
    [stale] = push_operations(
        app_client,
        ADELE,
        [
            PushOperation(
                "u", "update", body("Again"), event_id=event.id, change_key=ok.event.change_key
            )
        ],
    )
    assert isinstance(stale.error, PreconditionFailed)
    assert get_event(app_client, ADELE, event.id).subject == "Changed in Outlook"


def test_update_of_a_deleted_event_is_not_found_and_delete_is_gone(sb, app_client):
    [created] = push_operations(app_client, ADELE, creates(1))
    sb.state.delete_event(ADELE, created.event.id)
    update, delete = push_operations(
        app_client,
        ADELE,
        [
            PushOperation("u", "update", body("x"), event_id=created.event.id),
            PushOperation("d", "delete", event_id=created.event.id),
        ],
    )
    assert isinstance(update.error, NotFound)
    assert delete.ok and delete.gone


def test_series_occurrences_can_be_listed_and_patched(sb, app_client):
    rule = Recurrence("daily", end_type="count", count=4)
    series_body = body("Stand-up", recurrence=rule)
    [created] = push_operations(
        app_client, ADELE, [PushOperation("s", "create", series_body, transaction_id="series")]
    )
    master = created.event
    assert master.event_type == "seriesMaster"
    instances = list_instances(
        app_client, ADELE, master.id, BASE - timedelta(days=1), BASE + timedelta(days=10)
    )
    assert len(instances) == 4
    starts = sorted(i.raw["originalStart"] for i in instances)
    assert starts[0].startswith(BASE.strftime("%Y-%m-%dT%H:%M"))
    second = sorted(instances, key=lambda i: i.start)[1]
    changed = update_event(
        app_client, ADELE, second.id, {"subject": "Moved stand-up"}, change_key=second.change_key
    )
    assert changed.event_type == "exception"
    assert changed.series_master_id == master.id


def test_a_refused_item_only_holds_back_its_own_chain(sb, app_client):
    ops = creates(8)
    broken = dict(ops[1].payload, showAs="not-a-status")
    ops[1] = PushOperation("1", "create", broken, transaction_id="tx-1")
    results = {r.key: r for r in push_operations(app_client, ADELE, ops)}
    assert results["1"].error.status == 400
    chain = {str(i) for i in range(1 + LANES, 8, LANES)}  # after item 1 in its chain
    assert chain
    assert all(results[k].error.status == 424 for k in chain), "same chain as the refused item"
    others = {str(i) for i in range(8)} - chain - {"1"}
    assert all(results[k].ok for k in others)
