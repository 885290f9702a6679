"""Change notifications (Graph webhooks): the decisions, no I/O.

Why this file exists: Graph tells a subscriber that a mailbox's events changed by
POSTing to a public URL; the subscriber must check every notification (is it one
of our subscriptions, does its ``clientState`` match), answer fast, and keep its
subscriptions alive before they expire. Those checks and schedules are pure and
live here; the requests are :mod:`m365_graph.resources.subscriptions`, the web
endpoint and the jobs are the addon's.

What Microsoft documents, and what real tenants do (the sources):

* Lifetime: an Outlook ``event`` subscription lives at most 10,080 minutes
  ("under 7 days"), table *Subscription lifetime* of the subscription resource
  type, https://learn.microsoft.com/graph/api/resources/subscription . Real
  Graph refuses 10,080 with ``ExtensionError`` "Subscription expiration can only be
  10070 minutes in the future." (reported by several client libraries), so we ask
  :data:`SAFE_EVENT_MINUTES`.
* Delivery: the endpoint answers the ``validationToken`` handshake in plain text
  within 10 seconds, notifications with ``202 Accepted`` within 3 seconds; Graph
  retries a failed delivery with exponential back-off for up to 4 hours, then
  drops it (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks).
  Notifications of several subscriptions may share one POST
  (microsoftgraph/microsoft-graph-docs PR #738).
* Real tenants send duplicates (three ``updated`` for one change:
  microsoftgraph/microsoft-graph-docs-contrib#3073) and give the resource as
  ``Users/{id}/Events/{id}`` (capitalised). A notification is therefore only a
  signal: the job re-reads the mailbox by delta, so order and repetition do not
  matter.
* Lifecycle notifications (``lifecycleEvent``): ``reauthorizationRequired`` →
  reauthorize (or renew), ``subscriptionRemoved`` → create it again, ``missed``
  → resynchronise by delta
  (https://learn.microsoft.com/graph/change-notifications-lifecycle-events).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "CHANGE_TYPES",
    "DOCUMENTED_EVENT_MINUTES",
    "LIFECYCLE_ACTIONS",
    "MAX_BODY_BYTES",
    "SAFE_EVENT_MINUTES",
    "GraphSubscription",
    "MalformedNotification",
    "Notification",
    "client_state_digest",
    "client_state_matches",
    "events_resource",
    "lifecycle_action",
    "mailbox_of_resource",
    "new_client_state",
    "parse_notifications",
    "parse_subscription",
    "pick_renewals",
    "renewal_time",
    "subscription_expiry",
]

#: The documented maximum lifetime of an Outlook event subscription (minutes).
DOCUMENTED_EVENT_MINUTES = 10_080
#: What real Graph accepts (``ExtensionError`` above it): we ask this, minus nothing.
SAFE_EVENT_MINUTES = 10_070
#: Events created, changed and deleted.
CHANGE_TYPES = "created,updated,deleted"
#: A body larger than this is no notification batch of ours (Graph batches small
#: items without resource data; 1,000 items are about 600 kB).
MAX_BODY_BYTES = 1_000_000
#: What to do for each lifecycle event.
LIFECYCLE_ACTIONS = {
    "reauthorizationRequired": "reauthorize",
    "subscriptionRemoved": "recreate",
    "missed": "resync",
}
#: Renewal happens between these fractions of the lifetime *before* expiry.
RENEW_LEAD = (0.25, 0.5)
#: A subscription this close to its expiry is renewed whatever the per-run cap.
URGENT = timedelta(hours=6)

_RESOURCE_RE = re.compile(r"^/?(?:users|me)(?:/([^/]+))?/events(?:/|$)", re.IGNORECASE)


class MalformedNotification(ValueError):
    """The body is not a JSON notification batch (the webhook answers 400)."""


@dataclass(frozen=True)
class Notification:
    """One item of a notification POST (change or lifecycle notification)."""

    subscription_id: str
    client_state: str | None
    change_type: str | None = None
    resource: str | None = None
    resource_id: str | None = None
    lifecycle_event: str | None = None
    tenant_id: str | None = None
    expires: datetime | None = None


@dataclass(frozen=True)
class GraphSubscription:
    """A subscription as Graph returned it."""

    id: str
    resource: str
    change_type: str
    expires: datetime | None
    notification_url: str | None = None
    lifecycle_url: str | None = None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Graph gives seven fractional digits; Python's parser takes at most six.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def graph_time(value: datetime) -> str:
    """``expirationDateTime`` as Graph writes it (UTC, ``Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def parse_subscription(item: Any) -> GraphSubscription:
    """A subscription from Graph's JSON (``ValueError`` when it has no id)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise ValueError("Microsoft Graph returned a subscription without an id")
    return GraphSubscription(
        id=item["id"],
        resource=str(item.get("resource") or ""),
        change_type=str(item.get("changeType") or ""),
        expires=_parse_time(item.get("expirationDateTime")),
        notification_url=item.get("notificationUrl"),
        lifecycle_url=item.get("lifecycleNotificationUrl"),
    )


def parse_notifications(body: bytes | str, max_items: int = 5000) -> list[Notification]:
    """The items of a notification POST body.

    Raises :class:`MalformedNotification` when the body is not JSON or not
    ``{"value": [...]}``; items that are not objects or have no subscription id
    are left out (a forged item never hides the genuine ones of the same POST).
    """
    if isinstance(body, bytes):
        if len(body) > MAX_BODY_BYTES:
            raise MalformedNotification("the body is larger than a notification batch")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNotification("the body is not UTF-8") from exc
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedNotification("the body is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise MalformedNotification('the body is not {"value": [...]}')
    items = []
    for raw in data["value"][:max_items]:
        if not isinstance(raw, dict):
            continue
        sub_id = raw.get("subscriptionId")
        if not isinstance(sub_id, str) or not sub_id or len(sub_id) > 200:
            continue
        state = raw.get("clientState")
        data_part = raw.get("resourceData") if isinstance(raw.get("resourceData"), dict) else {}
        resource_id = data_part.get("id")
        items.append(
            Notification(
                subscription_id=sub_id,
                client_state=state if isinstance(state, str) else None,
                change_type=_text(raw.get("changeType")),
                resource=_text(raw.get("resource")),
                resource_id=resource_id if isinstance(resource_id, str) else None,
                lifecycle_event=_text(raw.get("lifecycleEvent")),
                tenant_id=_text(raw.get("tenantId")),
                expires=_parse_time(raw.get("subscriptionExpirationDateTime")),
            )
        )
    return items


def _text(value: Any) -> str | None:
    return value[:1000] if isinstance(value, str) else None


def new_client_state() -> str:
    """A random ``clientState`` (Graph allows 128 characters; this is 43)."""
    return secrets.token_urlsafe(32)


def client_state_digest(client_state: str) -> str:
    """What the webhook keeps in memory to check a ``clientState``: its SHA-256.

    The secret itself stays encrypted in the database; the digest of a 256-bit
    random value reveals nothing usable.
    """
    return hashlib.sha256(client_state.encode("utf-8")).hexdigest()


def client_state_matches(received: str | None, digest: str | None) -> bool:
    """Constant-time check of a received ``clientState`` against the kept digest."""
    if not received or not digest:
        return False
    return hmac.compare_digest(client_state_digest(received), digest)


def events_resource(mailbox: str | None) -> str:
    """The resource of a mailbox's events: ``me/events`` (delegated) or
    ``users/{id}/events`` (application permission)."""
    if not mailbox or mailbox == "me":
        return "me/events"
    return f"users/{mailbox}/events"


def mailbox_of_resource(resource: str | None) -> str | None:
    """The mailbox of a notification's resource (``Users/{id}/Events/{id}`` as real
    Graph writes it, any case), ``"me"`` for ``me/events``; None otherwise."""
    if not resource:
        return None
    match = _RESOURCE_RE.match(resource.strip())
    if not match:
        return None
    if resource.strip().lstrip("/").lower().startswith("me"):
        return "me"
    return match.group(1)


def lifecycle_action(event: str | None) -> str | None:
    """``reauthorize``, ``recreate`` or ``resync`` for a lifecycle event; None if unknown."""
    return LIFECYCLE_ACTIONS.get(event or "")


def subscription_expiry(now: datetime, minutes: int = SAFE_EVENT_MINUTES) -> datetime:
    """The expiry to ask for: ``minutes`` from ``now``, at most :data:`SAFE_EVENT_MINUTES`."""
    return now + timedelta(minutes=max(1, min(minutes, SAFE_EVENT_MINUTES)))


def _fraction(key: str) -> float:
    """A stable number in [0, 1) for ``key`` (spreads renewals, same on every server)."""
    return zlib.crc32(key.encode("utf-8")) / 2**32


def renewal_time(
    key: str, expires: datetime, lifetime: timedelta = timedelta(minutes=SAFE_EVENT_MINUTES)
) -> datetime:
    """When to renew a subscription that expires at ``expires``.

    Between a quarter and a half of the lifetime before expiry, at a point fixed by
    ``key`` (the subscription's own id): subscriptions created in one burst renew
    spread over a quarter of the lifetime (about 42 hours for events), and each
    renewal starts a new lifetime from its own moment, so the spread only grows.
    """
    low, high = RENEW_LEAD
    lead = lifetime * (low + (high - low) * _fraction(key))
    return expires - lead


def pick_renewals(
    candidates: Iterable[tuple[Any, datetime, datetime | None]], now: datetime, limit: int
) -> list[Any]:
    """Which subscriptions to renew now: ``(ref, renew_at, expires)`` due ones,
    those expiring soonest first, at most ``limit`` — except that those expiring
    within :data:`URGENT` are always renewed (a cap must never let one lapse)."""
    due = [c for c in candidates if c[1] <= now]
    due.sort(key=lambda c: (c[2] or now, c[1]))
    picked = []
    for ref, _renew_at, expires in due:
        if len(picked) < limit or (expires is not None and expires - now <= URGENT):
            picked.append(ref)
    return picked
