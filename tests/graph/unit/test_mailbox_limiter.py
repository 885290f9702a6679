"""Per-mailbox in-flight cap across threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from m365_graph.core.client import GraphClient
from m365_graph.core.mailbox import MailboxLimiter, mailbox_of

from ..fakes import FakeSession, FakeTokens, quick_policy, response


@pytest.mark.parametrize(
    ("url", "mailbox"),
    [
        ("/users/Anna@Contoso.com/events", "anna@contoso.com"),
        ("https://graph.test/v1.0/users/abc/calendarView?x=1", "abc"),
        ("/users/abc/calendars/1/events", "abc"),
        ("/me/events/1", "me"),
        ("/users/delta", None),
        ("/users/abc", None),
        ("/users?$top=1", None),
        ("/$batch", None),
    ],
)
def test_mailbox_of(url, mailbox):
    assert mailbox_of(url) == mailbox


def test_limiter_caps_concurrency_per_mailbox():
    limiter = MailboxLimiter(4)
    active = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}
    lock = threading.Lock()

    def work(box):
        with limiter.hold([box]):
            with lock:
                active[box] += 1
                peak[box] = max(peak[box], active[box])
            time.sleep(0.002)
            with lock:
                active[box] -= 1

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, ["a", "b"] * 40))
    assert peak["a"] <= 4
    assert peak["b"] <= 4
    assert limiter.peak <= 4


def test_batch_with_many_items_for_one_mailbox_does_not_deadlock():
    limiter = MailboxLimiter(4)
    with limiter.hold(["a"] * 10 + ["b", None]):
        assert limiter.peak == 4


def test_client_respects_cap_from_a_thread_pool():
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def handler(call):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.003)
        with lock:
            state["now"] -= 1
        return response(200, {"id": "x"})

    policy, _ = quick_policy()
    client = GraphClient(
        FakeTokens(), "https://graph.test/v1.0", session=FakeSession(handler), retry=policy
    )
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda i: client.get_json("/users/same/events/1"), range(48)))
    assert state["peak"] <= 4
    assert client.counters.snapshot().requests == 48


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        MailboxLimiter(0)
