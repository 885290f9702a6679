"""Injected faults: throttling, outages, drops, latency, per-mailbox concurrency."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .helpers import Graph

ADELE = "adele.vance@contoso.onmicrosoft.com"
MEGAN = "megan.bowen@contoso.onmicrosoft.com"
WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
EVENT = {
    "subject": "idempotent",
    "transactionId": "odoo-activity-7",
    "start": {"dateTime": "2026-11-21T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-11-21T10:00:00", "timeZone": "UTC"},
}


def test_429_with_retry_after_fires_given_times(sandbox):
    graph = Graph(sandbox)
    fault = sandbox.faults.add(429, path=r"/users$", retry_after=3, times=2)
    first, second, third = (graph.get("/users") for _ in range(3))
    assert first.status_code == second.status_code == 429
    assert first.headers["Retry-After"] == "3"
    assert first.json()["error"]["code"] == "TooManyRequests"
    assert third.status_code == 200
    assert fault.fired == 2 and fault.remaining == 0


def test_after_lets_the_first_requests_through(sandbox):
    graph = Graph(sandbox)
    fault = sandbox.faults.add(429, path=r"/users$", after=2, times=1)
    statuses = [graph.get("/users").status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 200]
    assert fault.passed == 2 and fault.fired == 1


@pytest.mark.parametrize(("status", "retry_after"), [(503, 5), (503, None), (504, None)])
def test_outages_with_and_without_retry_after(sandbox, status, retry_after):
    graph = Graph(sandbox)
    sandbox.faults.add(status, path="calendarView", retry_after=retry_after)
    response = graph.get(f"/users/{ADELE}/calendarView", params=WINDOW)
    assert response.status_code == status
    assert response.headers.get("Retry-After") == (
        None if retry_after is None else str(retry_after)
    )
    assert "error" in response.json()
    assert graph.get(f"/users/{ADELE}/calendarView", params=WINDOW).status_code == 200


def test_method_filter_and_custom_code(sandbox):
    graph = Graph(sandbox)
    sandbox.faults.add(503, method="POST", code="ServiceUnavailable", times=None)
    assert graph.get(f"/users/{ADELE}/events").status_code == 200
    response = graph.post(f"/users/{ADELE}/events", json=EVENT)
    assert response.status_code == 503 and response.json()["error"]["code"] == "ServiceUnavailable"
    sandbox.faults.clear()
    assert graph.post(f"/users/{ADELE}/events", json=EVENT).status_code == 201


def test_probability_is_seeded(sandbox):
    graph = Graph(sandbox)
    sandbox.faults.add(429, path=r"/users$", probability=0.5, times=None)
    statuses = [graph.get("/users").status_code for _ in range(20)]
    assert 0 < statuses.count(429) < 20


def test_drop_closes_the_connection_without_doing_the_work(sandbox):
    graph = Graph(sandbox)
    sandbox.faults.add(kind="drop", method="POST", path="/events$")
    with pytest.raises(requests.ConnectionError):
        graph.post(f"/users/{ADELE}/events", json=EVENT)
    assert sandbox.state.events(ADELE) == []
    assert graph.get("/users").status_code == 200  # the server is fine afterwards


def test_drop_after_does_the_work_and_a_retry_with_transaction_id_is_idempotent(sandbox):
    graph = Graph(sandbox)
    sandbox.faults.add(kind="drop_after", method="POST", path="/events$")
    with pytest.raises(requests.ConnectionError):
        graph.post(f"/users/{ADELE}/events", json=EVENT)
    (created,) = sandbox.state.events(ADELE)
    retried = graph.post(f"/users/{ADELE}/events", json=EVENT)
    assert retried.status_code == 201 and retried.json()["id"] == created["id"]
    assert len(sandbox.state.events(ADELE)) == 1


def test_latency_fault_and_global_latency(sandbox):
    graph = Graph(sandbox)
    sandbox.faults.add(kind="latency", delay=0.3, path=r"/users$")
    started = time.monotonic()
    assert graph.get("/users").status_code == 200
    assert time.monotonic() - started >= 0.3
    sandbox.latency = 0.2
    started = time.monotonic()
    graph.get(f"/users/{ADELE}")
    assert time.monotonic() - started >= 0.2


def test_concurrent_clients_overlap_and_mailbox_concurrency_is_limited(sandbox):
    token = Graph(sandbox).token
    sandbox.latency = 0.4
    barrier = threading.Barrier(6)

    def call(user):
        graph = Graph(sandbox, token)
        barrier.wait()
        return graph.get(f"/users/{user}/calendarView", params=WINDOW)

    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(call, [ADELE] * 6))
    elapsed = time.monotonic() - started
    assert elapsed < 6 * 0.4  # requests really ran at the same time
    throttled = [r for r in responses if r.status_code == 429]
    assert len(throttled) == 2
    assert throttled[0].json()["error"] == {
        "code": "ApplicationThrottled",
        "message": "Application is over its MailboxConcurrency limit.",
        "innerError": throttled[0].json()["error"]["innerError"],
    }
    assert throttled[0].headers["Retry-After"] == "1"

    # Different mailboxes do not share the limit.
    barrier = threading.Barrier(6)
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(call, [ADELE, ADELE, ADELE, MEGAN, MEGAN, MEGAN]))
    assert {r.status_code for r in responses} == {200}


def test_faults_on_identity_endpoints(sandbox):
    sandbox.faults.add(503, path=r"/oauth2/v2\.0/token$", retry_after=2)
    response = requests.post(
        f"{sandbox.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=sandbox.ca_path,
        timeout=10,
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    Graph(sandbox)  # the next token request works


def test_cancelled_fault_stops_firing(sandbox):
    graph = Graph(sandbox)
    fault = sandbox.faults.add(429, times=None)
    assert graph.get("/users").status_code == 429
    fault.cancel()
    assert graph.get("/users").status_code == 200


def test_drop_matched_by_a_batch_item_drops_the_batch_call(sandbox):
    graph = Graph(sandbox)
    sandbox.faults.add(kind="drop_after", path="/events$", in_batch=True)
    body = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": f"/users/{ADELE}/events",
                "headers": {"Content-Type": "application/json"},
                "body": EVENT,
            },
            {"id": "2", "method": "GET", "url": "/users?$top=1"},
        ]
    }
    with pytest.raises(requests.ConnectionError):
        graph.post("/$batch", json=body)
    assert len(sandbox.state.events(ADELE)) == 1  # the work was done
    answers = graph.post("/$batch", json=body).json()["responses"]
    assert {a["id"]: a["status"] for a in answers} == {"1": 201, "2": 200}
    assert len(sandbox.state.events(ADELE)) == 1  # transactionId made the retry harmless


def test_concurrent_writers_and_readers_stay_consistent(sandbox):
    token = Graph(sandbox).token
    sandbox.faults.mailbox_concurrency = None

    def work(index):
        graph = Graph(sandbox, token)
        user = [ADELE, MEGAN][index % 2]
        payload = {**EVENT, "transactionId": f"tx-{index % 10}", "subject": f"s{index}"}
        created = graph.post(f"/users/{user}/events", json=payload)
        listed = graph.get(f"/users/{user}/calendarView", params={**WINDOW, "$top": "100"})
        return created.status_code, listed.status_code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(40)))
    assert set(results) == {(201, 200)}
    # tx-0..9 split over two mailboxes by parity: 5 distinct transactionIds each.
    assert len(sandbox.state.events(ADELE)) == 5 and len(sandbox.state.events(MEGAN)) == 5
