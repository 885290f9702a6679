"""The sandbox's change notifications: subscriptions, handshake, delivery, retries.

A small werkzeug receiver in a thread plays the subscriber: it answers the
validation handshake (or not) and records what Graph would POST to it.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .helpers import Graph

ADELE = "adele.vance@contoso.onmicrosoft.com"


class Receiver:
    def __init__(self):
        self.received: list[dict] = []
        self.tokens: list[str] = []
        self.fail = 0  # answer 503 to this many notification POSTs
        self.handshake = "echo"  # "echo", "wrong", "html"
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @Request.application
    def app(self, request):
        token = request.args.get("validationToken")
        if token is not None:
            self.tokens.append(token)
            if self.handshake == "slow":
                time.sleep(0.5)
            if self.handshake == "wrong":
                return Response("nope", 200, content_type="text/plain")
            return Response(token, 200, content_type="text/plain")
        if self.fail:
            self.fail -= 1
            return Response("busy", 503)
        self.received.append(json.loads(request.get_data()))
        return Response("", 202)

    def items(self):
        return [item for body in self.received for item in body["value"]]

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


def _expiry(sb, minutes=60):
    return (sb.state.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _subscribe(graph, sb, url, resource=None, **extra):
    user = sb.state.get_user(ADELE)
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": url,
        "resource": resource or f"users/{user['id']}/events",
        "expirationDateTime": _expiry(sb),
        "clientState": "s3cret",
        **extra,
    }
    return graph.post("/subscriptions", json=body, headers={"Prefer": 'IdType="ImmutableId"'})


def test_create_validates_and_notifies(sandbox, receiver):
    graph = Graph(sandbox)
    answer = _subscribe(graph, sandbox, receiver.url, lifecycleNotificationUrl=receiver.url)
    assert answer.status_code == 201, answer.text
    sub = answer.json()
    assert receiver.tokens and receiver.tokens[0].startswith("Validation:")
    assert sub["clientState"] == "s3cret"
    assert 'IdType="ImmutableId"' in answer.headers["Preference-Applied"]
    user = sandbox.state.get_user(ADELE)
    event = sandbox.state.add_event(
        ADELE,
        "Visit",
        datetime.fromisoformat("2026-03-02T10:00:00"),
        datetime.fromisoformat("2026-03-02T11:00:00"),
    )
    sandbox.state.update_event(ADELE, event["id"], subject="Visit 2")
    sandbox.state.delete_event(ADELE, event["id"])
    assert sandbox.notifications.flush(5)
    items = receiver.items()
    kinds = [item["changeType"] for item in items]
    # Real tenants repeat updates (microsoft-graph-docs-contrib#3073): two by default.
    assert kinds == ["created", "updated", "updated", "deleted"]
    first = items[0]
    assert first["subscriptionId"] == sub["id"]
    assert first["clientState"] == "s3cret"
    assert first["tenantId"] == sandbox.tenant_id
    assert first["resource"] == f"Users/{user['id']}/Events/{event['id']}"
    assert first["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
    assert first["resourceData"]["id"] == event["id"]
    assert first["resourceData"]["@odata.etag"].startswith('W/"')
    # Batched like Graph: several notifications share a POST.
    assert len(receiver.received) < len(items)


def test_handshake_failure_fails_the_creation(sandbox, receiver):
    receiver.handshake = "wrong"
    answer = _subscribe(Graph(sandbox), sandbox, receiver.url)
    assert answer.status_code == 400
    assert "validation request failed" in answer.json()["error"]["message"]
    assert not sandbox.notifications.active()


def test_handshake_slower_than_the_limit_fails(sandbox, receiver):
    """Graph waits 10 seconds for the token; the sandbox's limit is configurable."""
    receiver.handshake = "slow"
    sandbox.notifications.validation_timeout = 0.2
    answer = _subscribe(Graph(sandbox), sandbox, receiver.url)
    assert answer.status_code == 400
    assert "validation request failed" in answer.json()["error"]["message"]


def test_unreachable_url_and_http_rules(sandbox):
    graph = Graph(sandbox)
    assert _subscribe(graph, sandbox, "http://127.0.0.1:9/none").status_code == 400
    answer = _subscribe(graph, sandbox, "http://example.com/hook")
    assert answer.status_code == 400
    assert "https" in answer.json()["error"]["message"]


def test_expiry_limits_renew_and_delete(sandbox, receiver):
    graph = Graph(sandbox)
    too_long = _subscribe(graph, sandbox, receiver.url, expirationDateTime=_expiry(sandbox, 10_080))
    assert too_long.status_code == 400
    assert "10070 minutes" in too_long.json()["error"]["message"]
    sub = _subscribe(graph, sandbox, receiver.url).json()
    renewed = graph.patch(
        f"/subscriptions/{sub['id']}", json={"expirationDateTime": _expiry(sandbox, 10_000)}
    )
    assert renewed.status_code == 200
    assert renewed.json()["clientState"] is None
    assert graph.post(f"/subscriptions/{sub['id']}/reauthorize").status_code == 200
    assert graph.get(f"/subscriptions/{sub['id']}").status_code == 200
    sandbox.state.advance_clock(10_001 * 60)
    graph = Graph(sandbox)  # the old token expired with the clock
    assert graph.get(f"/subscriptions/{sub['id']}").status_code == 404
    sandbox.state.add_event(
        ADELE,
        "Late",
        datetime.fromisoformat("2026-03-02T10:00:00"),
        datetime.fromisoformat("2026-03-02T11:00:00"),
    )
    assert sandbox.notifications.flush(5)
    assert receiver.items() == []
    sub = _subscribe(graph, sandbox, receiver.url).json()
    assert graph.delete(f"/subscriptions/{sub['id']}").status_code == 204
    assert graph.delete(f"/subscriptions/{sub['id']}").status_code == 404
    assert (
        graph.patch(
            f"/subscriptions/{sub['id']}", json={"expirationDateTime": _expiry(sandbox)}
        ).status_code
        == 404
    )


def test_permissions_and_resources(sandbox, receiver):
    graph = Graph(sandbox)
    assert _subscribe(graph, sandbox, receiver.url, resource="me/events").status_code == 400
    assert _subscribe(graph, sandbox, receiver.url, resource="users/x/messages").status_code == 400
    sandbox.state.set_app_roles(["User.Read.All"])
    assert _subscribe(Graph(sandbox), sandbox, receiver.url).status_code == 403
    token = sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite"])
    mine = _subscribe(Graph(sandbox, token), sandbox, receiver.url, resource="me/events")
    assert mine.status_code == 201, mine.text
    other = sandbox.state.get_user("megan.bowen@contoso.onmicrosoft.com")
    answer = _subscribe(
        Graph(sandbox, token), sandbox, receiver.url, resource=f"users/{other['id']}/events"
    )
    assert answer.status_code == 403
    listed = Graph(sandbox, token).get("/subscriptions").json()["value"]
    assert [s["id"] for s in listed] == [mine.json()["id"]]


def test_failed_deliveries_are_retried_then_dropped(sandbox, receiver):
    hub = sandbox.notifications
    hub.retry_initial = 0.05
    hub.retry_window = 0.4
    graph = Graph(sandbox)
    assert _subscribe(graph, sandbox, receiver.url).status_code == 201
    receiver.fail = 2
    sandbox.state.add_event(
        ADELE,
        "Retry",
        datetime.fromisoformat("2026-03-02T10:00:00"),
        datetime.fromisoformat("2026-03-02T11:00:00"),
    )
    assert hub.flush(5)
    assert [d.status for d in hub.log] == [503, 503, 202]
    assert [d.attempt for d in hub.log] == [0, 1, 2]
    assert all(d.duration > 0 for d in hub.log)  # how long the receiver took to answer
    assert len(receiver.items()) == 1
    receiver.fail = 100
    sandbox.state.add_event(
        ADELE,
        "Lost",
        datetime.fromisoformat("2026-03-02T12:00:00"),
        datetime.fromisoformat("2026-03-02T13:00:00"),
    )
    assert hub.flush(5)
    assert len(hub.dropped) == 1
    assert len(receiver.items()) == 1


def test_lifecycle_notifications_on_demand(sandbox, receiver):
    graph = Graph(sandbox)
    sub = _subscribe(graph, sandbox, receiver.url, lifecycleNotificationUrl=receiver.url).json()
    assert sandbox.notifications.send_lifecycle(sub["id"], "reauthorizationRequired")
    assert sandbox.notifications.send_lifecycle(sub["id"], "subscriptionRemoved")
    assert sandbox.notifications.flush(5)
    events = [item["lifecycleEvent"] for item in receiver.items()]
    assert events == ["reauthorizationRequired", "subscriptionRemoved"]
    assert graph.get(f"/subscriptions/{sub['id']}").status_code == 404
    assert not sandbox.notifications.send_lifecycle(sub["id"], "missed")


def test_delivery_runs_in_the_background(sandbox, receiver):
    """A change returns at once even when the receiver is slow (the thread sends)."""
    assert _subscribe(Graph(sandbox), sandbox, receiver.url).status_code == 201
    sandbox.notifications.paused = True
    began = time.monotonic()
    sandbox.state.add_event(
        ADELE,
        "Quick",
        datetime.fromisoformat("2026-03-02T10:00:00"),
        datetime.fromisoformat("2026-03-02T11:00:00"),
    )
    assert time.monotonic() - began < 1
    assert sandbox.notifications.pending() == 1
    sandbox.notifications.paused = False
    assert sandbox.notifications.flush(5)
    assert len(receiver.items()) == 1
