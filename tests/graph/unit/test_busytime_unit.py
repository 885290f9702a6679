"""The batched busy-time reader's scheduling against a scripted $batch server."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from m365_graph.core.client import GraphClient
from m365_graph.core.errors import NotFound, PermissionMissing, ReconnectNeeded, Transient
from m365_graph.resources.busytime import read_busy_times

from ..fakes import FakeSession, FakeTokens, graph_error, quick_policy, response

BASE = "https://graph.test/v1.0"
START = datetime(2025, 5, 5, tzinfo=timezone.utc)
END = datetime(2025, 5, 12, tzinfo=timezone.utc)


def event(mailbox, n):
    return {
        "id": f"{mailbox}-{n}",
        "start": {"dateTime": f"2025-05-05T{n % 10:02d}:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": f"2025-05-05T{n % 10:02d}:30:00.0000000", "timeZone": "UTC"},
        "showAs": "busy",
    }


class Calendars:
    """Each mailbox has ``sizes[mb]`` events, served ``per_page`` at a time via $skip."""

    def __init__(self, sizes, per_page=3, fail=None):
        self.sizes = sizes
        self.per_page = per_page
        self.fail = fail or {}
        self.batches = []
        self.lock = threading.Lock()

    def __call__(self, call):
        reqs = call.json["requests"]
        with self.lock:
            self.batches.append([r["url"] for r in reqs])
        out = []
        for r in reqs:
            parts = urlsplit(r["url"])
            mailbox = parts.path.split("/")[2]
            query = parse_qs(parts.query)
            assert query["$select"] == [
                "start,end,showAs,categories,isAllDay,sensitivity,type,responseStatus"
            ]
            assert "odata.maxpagesize=50" in r["headers"]["Prefer"]
            if mailbox in self.fail:
                status, code = self.fail[mailbox]
                out.append({"id": r["id"], "status": status, "body": {"error": {"code": code}}})
                continue
            skip = int(query.get("$skip", ["0"])[0])
            items = [
                event(mailbox, n)
                for n in range(skip, min(skip + self.per_page, self.sizes[mailbox]))
            ]
            body = {"value": items}
            if skip + self.per_page < self.sizes[mailbox]:
                body["@odata.nextLink"] = (
                    f"{BASE}{parts.path}?{parts.query}&$skip={skip + self.per_page}".replace(
                        f"&$skip={skip}&", "&"
                    )
                )
            out.append({"id": r["id"], "status": 200, "body": body})
        return response(200, {"responses": out})


def reader(server, **kwargs):
    policy, _ = quick_policy()
    client = GraphClient(FakeTokens(), BASE, session=FakeSession(server), retry=policy)
    return client, read_busy_times(
        client, kwargs.pop("mailboxes"), START, END, page_size=50, **kwargs
    )


def test_every_event_once_and_pages_followed_in_later_batches():
    sizes = {f"m{i}": i % 8 for i in range(45)}
    server = Calendars(sizes)
    done = []
    client, results = reader(server, mailboxes=list(sizes), workers=3, on_mailbox=done.append)
    assert list(results) == list(sizes)
    for mailbox, size in sizes.items():
        result = results[mailbox]
        assert result.ok
        assert sorted(s.event_id for s in result.slots) == sorted(
            f"{mailbox}-{n}" for n in range(size)
        )
        assert result.pages == max(1, -(-size // 3))
    assert sorted(r.mailbox for r in done) == sorted(sizes)
    assert all(len(b) <= 20 for b in server.batches)
    first_pages = sum(1 for b in server.batches for u in b if "$skip" not in u)
    assert first_pages == 45
    # next pages of several mailboxes share batches
    assert any(sum("$skip" in u for u in b) > 1 for b in server.batches)
    assert client.counters.snapshot().requests == len(server.batches)


def test_one_mailbox_error_does_not_stop_the_others():
    sizes = {"ok1": 4, "denied": 2, "gone": 1, "ok2": 0}
    server = Calendars(
        sizes, fail={"denied": (403, "ErrorAccessDenied"), "gone": (404, "ErrorInvalidUser")}
    )
    _, results = reader(server, mailboxes=list(sizes))
    assert isinstance(results["denied"].error, PermissionMissing)
    assert "Calendars.ReadBasic.All" in str(results["denied"].error)
    assert isinstance(results["gone"].error, NotFound)
    assert len(results["ok1"].slots) == 4
    assert results["ok2"].ok and results["ok2"].slots == []


def test_whole_batch_failure_marks_only_its_mailboxes():
    calls = {"n": 0}
    inner = Calendars({f"m{i}": 1 for i in range(25)})

    def server(call):
        calls["n"] += 1
        if any("/m0/" in r["url"] for r in call.json["requests"]):
            return graph_error(503, "serviceNotAvailable")
        return inner(call)

    _, results = reader(server, mailboxes=[f"m{i}" for i in range(25)], workers=1)
    failed = [m for m, r in results.items() if not r.ok]
    assert failed == [f"m{i}" for i in range(20)]
    assert isinstance(results["m0"].error, Transient)
    assert all(results[f"m{i}"].ok for i in range(20, 25))


def test_sign_in_failure_stops_the_run():
    class Broken(FakeTokens):
        def get_token(self, force_refresh=False):
            raise ReconnectNeeded("gone")

    policy, _ = quick_policy()
    client = GraphClient(Broken(), BASE, session=FakeSession(Calendars({})), retry=policy)
    with pytest.raises(ReconnectNeeded):
        read_busy_times(client, ["a", "b"], START, END)


def test_malformed_event_skipped_and_counted():
    def server(call):
        r = call.json["requests"][0]
        bad = {"id": "x", "start": {"dateTime": "nope", "timeZone": "UTC"}, "end": None}
        body = {"value": [event("a", 1), bad]}
        return response(200, {"responses": [{"id": r["id"], "status": 200, "body": body}]})

    _, results = reader(server, mailboxes=["a"])
    assert [s.event_id for s in results["a"].slots] == ["a-1"]
    assert results["a"].skipped[0].id == "x"


def test_refused_batch_call_stops_the_run():
    policy, _ = quick_policy()
    session = FakeSession(lambda call: graph_error(401, "InvalidAuthenticationToken"))
    client = GraphClient(FakeTokens(), BASE, session=session, retry=policy)
    with pytest.raises(PermissionMissing):
        read_busy_times(client, [f"m{i}" for i in range(60)], START, END, workers=1)
    assert len(session.calls) == 2  # one batch, one token refresh; the others never sent
