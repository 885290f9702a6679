"""Change-notification subscriptions of the tenant and their delivery, as Graph does it.

Why this file exists: clients subscribe to a mailbox's events (``POST
/subscriptions``, handled in ``graph/subscription_handlers.py``) and Graph then
POSTs a notification to their URL whenever an event is created, changed or
deleted. This module keeps the subscriptions (expiry enforced on the sandbox
clock), turns the tenant's event changes (``TenantState.event_observers``) into
notifications shaped as Microsoft documents them, and delivers them from a
background thread: batched per URL, retried with exponential back-off while
the receiver fails, dropped after the retry window.

Sources:

* Payload shape (``subscriptionId``, ``subscriptionExpirationDateTime``,
  ``changeType``, ``resource``, ``resourceData`` with ``@odata.type``,
  ``@odata.id``, ``@odata.etag`` and ``id``, ``clientState``, ``tenantId``) and
  the validation handshake (``?validationToken=``, answered ``200`` in plain text
  within 10 seconds, otherwise the creation fails):
  https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
* Retries: Graph retries a failed delivery with exponential back-off for up to
  4 hours (same page); :attr:`NotificationHub.retry_window` is configurable so
  tests need not wait hours.
* Several notifications share one POST (microsoftgraph/microsoft-graph-docs
  PR #738); how many is not documented — :attr:`batch_max`.
* Real tenants give the resource as ``Users/{id}/Events/{id}`` (capitalised, as
  in Microsoft's own examples) and send the same ``updated`` several times
  (three for one change in microsoftgraph/microsoft-graph-docs-contrib#3073):
  :attr:`update_copies` (default 2) repeats each update.
* Lifecycle notifications (``reauthorizationRequired``, ``subscriptionRemoved``,
  ``missed``) go to ``lifecycleNotificationUrl``
  (https://learn.microsoft.com/graph/change-notifications-lifecycle-events);
  :meth:`send_lifecycle` sends one on demand (tests, demo).

Not emulated: notifications that arrive before the change can be read (reported
for some resources), throttling of slow endpoints, rich notifications with
resource data.

The HTTP itself is not done here (the tenant knows nothing of HTTP): the server
hands in a ``sender(url, body, params, timeout) -> (status, text)``. The one
deviation from Graph: ``http://localhost`` and ``http://127.0.0.1`` URLs are
accepted (Graph calls ``https`` only), so that a demo needs no certificate.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

#: Graph's validation tokens read like this (then a request id).
VALIDATION_PREFIX = (
    "Validation: Testing client application reachability for subscription Request-Id: "
)

Sender = Callable[[str, "bytes | None", dict, float], tuple[int, str]]


@dataclass
class SandboxSubscription:
    id: str
    resource: str
    mailbox_id: str
    change_types: frozenset[str]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expires: datetime
    application_id: str
    creator_id: str | None  # the signed-in user of a delegated subscription
    created: datetime


@dataclass
class _Pending:
    url: str
    items: list
    due: float
    first: float
    attempt: int = 0
    lifecycle: bool = False


@dataclass
class Delivery:
    """One POST the hub made (tests and benchmarks read :attr:`NotificationHub.log`)."""

    url: str
    status: int
    items: int
    attempt: int
    at: float
    lifecycle: bool = False
    subscription_ids: tuple = field(default_factory=tuple)
    duration: float = 0.0  # seconds the receiver took to answer


def url_allowed(url: str) -> bool:
    """https, or http to localhost (the sandbox's one documented deviation)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}


class NotificationHub:
    """The tenant's subscriptions and the thread that delivers their notifications."""

    def __init__(
        self,
        state,
        sender: Sender | None = None,
        *,
        retry_initial: float = 30.0,
        retry_window: float = 4 * 3600.0,
        batch_wait: float = 0.05,
        batch_max: int = 100,
        update_copies: int = 2,
        validation_timeout: float = 10.0,
        delivery_timeout: float = 10.0,
    ):
        self.state = state
        self.sender = sender
        self.retry_initial = retry_initial
        self.retry_window = retry_window
        self.batch_wait = batch_wait
        self.batch_max = batch_max
        self.update_copies = update_copies
        self.validation_timeout = validation_timeout
        self.delivery_timeout = delivery_timeout
        self.subscriptions: dict[str, SandboxSubscription] = {}
        self.log: list[Delivery] = []
        self.dropped: list[_Pending] = []
        self.validations: list[tuple[str, bool]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[_Pending] = deque()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._stop = False
        self.paused = False  # tests: hold every delivery (as if Graph were slow)
        state.event_observers.append(self._on_change)

    # -- subscriptions ---------------------------------------------------------

    def validate(self, url: str) -> str | None:
        """Graph's handshake: POST ``url?validationToken=…``; None if the answer is
        ``200`` with the token as its body, else the reason."""
        token = VALIDATION_PREFIX + secrets.token_hex(16)
        if self.sender is None:
            return "no sender"
        try:
            status, text = self.sender(
                url, None, {"validationToken": token}, self.validation_timeout
            )
        except Exception as exc:
            self.validations.append((url, False))
            return f"{type(exc).__name__}"
        good = status == 200 and text == token
        self.validations.append((url, good))
        return None if good else f"HTTP {status}"

    def add(self, sub: SandboxSubscription) -> None:
        with self._lock:
            self.subscriptions[sub.id] = sub

    def get(self, sub_id: str) -> SandboxSubscription | None:
        """The subscription, None when unknown or expired (Graph removes those)."""
        with self._lock:
            sub = self.subscriptions.get(sub_id)
            if sub is not None and sub.expires <= self.state.now():
                del self.subscriptions[sub_id]
                return None
            return sub

    def remove(self, sub_id: str) -> SandboxSubscription | None:
        with self._lock:
            return self.subscriptions.pop(sub_id, None)

    def active(self) -> list[SandboxSubscription]:
        now = self.state.now()
        with self._lock:
            for sub_id in [k for k, s in self.subscriptions.items() if s.expires <= now]:
                del self.subscriptions[sub_id]
            return list(self.subscriptions.values())

    # -- notifications -----------------------------------------------------------

    def _item(self, sub: SandboxSubscription, change_type: str, event_id: str, change_key: str):
        resource = f"Users/{sub.mailbox_id}/Events/{event_id}"
        return {
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": _graph_time(sub.expires),
            "changeType": change_type,
            "resource": resource,
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.Event",
                "@odata.id": resource,
                "@odata.etag": f'W/"{change_key}"',
                "id": event_id,
            },
            "clientState": sub.client_state,
            "tenantId": self.state.tenant_id,
        }

    def _on_change(self, user_id: str, event_id: str, change_type: str, change_key: str) -> None:
        now = self.state.now()
        copies = max(1, self.update_copies) if change_type == "updated" else 1
        with self._lock:
            targets = [
                s
                for s in self.subscriptions.values()
                if s.mailbox_id == user_id and change_type in s.change_types and s.expires > now
            ]
            for sub in targets:
                item = self._item(sub, change_type, event_id, change_key)
                for _ in range(copies):
                    self._enqueue(sub.notification_url, [item])
            if targets:
                self._wake.notify_all()

    def send_lifecycle(self, sub_id: str, event: str) -> bool:
        """Send a lifecycle notification for ``sub_id`` (``reauthorizationRequired``,
        ``subscriptionRemoved`` — which also removes it —, ``missed``). False when the
        subscription is unknown or has no lifecycle URL."""
        sub = self.get(sub_id)
        if sub is None or not sub.lifecycle_url:
            return False
        if event == "subscriptionRemoved":
            self.remove(sub_id)
        item = {
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": _graph_time(sub.expires),
            "tenantId": self.state.tenant_id,
            "clientState": sub.client_state,
            "lifecycleEvent": event,
        }
        with self._lock:
            self._enqueue(sub.lifecycle_url, [item], lifecycle=True)
            self._wake.notify_all()
        return True

    def _enqueue(self, url: str, items: list, lifecycle: bool = False) -> None:
        now = time.monotonic()
        self._queue.append(_Pending(url, items, now + self.batch_wait, now, lifecycle=lifecycle))

    # -- the delivery thread -------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="m365-sandbox:notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def clear(self) -> None:
        """Forget queued notifications, the log and every subscription (tests)."""
        with self._lock:
            self._queue.clear()
            self.subscriptions.clear()
            self.log.clear()
            self.dropped.clear()
            self.validations.clear()
            self.paused = False

    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + self._busy

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent (tests); False on time-out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pending():
                return True
            time.sleep(0.02)
        return not self.pending()

    def _take(self) -> _Pending | None:
        """The next batch due now (items of one URL and kind merged up to batch_max)."""
        now = time.monotonic()
        for index, head in enumerate(self._queue):
            if head.due > now:
                continue
            del self._queue[index]
            if head.attempt == 0:
                rest = deque()
                while self._queue and len(head.items) < self.batch_max:
                    other = self._queue.popleft()
                    if (
                        other.attempt == 0
                        and other.url == head.url
                        and other.lifecycle == head.lifecycle
                        and other.due <= now + self.batch_wait
                    ):
                        head.items.extend(other.items)
                    else:
                        rest.append(other)
                self._queue.extendleft(reversed(rest))
            return head
        return None

    def _run(self) -> None:
        while True:
            with self._lock:
                batch = None
                while not self._stop:
                    batch = None if self.paused else self._take()
                    if batch is not None:
                        self._busy += 1
                        break
                    self._wake.wait(timeout=0.05)
                if self._stop:
                    return
            try:
                self._deliver(batch)
            finally:
                with self._lock:
                    self._busy -= 1

    def _deliver(self, batch: _Pending) -> None:
        body = json.dumps({"value": batch.items}).encode()
        began = time.monotonic()
        try:
            status, _text = self.sender(batch.url, body, {}, self.delivery_timeout)
        except Exception:
            status = 0
        took = time.monotonic() - began
        self.log.append(
            Delivery(
                batch.url,
                status,
                len(batch.items),
                batch.attempt,
                time.time(),
                batch.lifecycle,
                tuple(item["subscriptionId"] for item in batch.items),
                took,
            )
        )
        if 200 <= status < 300:
            return
        batch.attempt += 1
        delay = self.retry_initial * 2 ** (batch.attempt - 1)
        now = time.monotonic()
        if now + delay - batch.first > self.retry_window:
            self.dropped.append(batch)
            return
        batch.due = now + delay
        with self._lock:
            self._queue.append(batch)


def _graph_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
