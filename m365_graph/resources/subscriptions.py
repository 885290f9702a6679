"""Graph change-notification subscriptions (``/subscriptions``): the I/O.

Why this file exists: a webhook subscription is created, renewed, reauthorized and
deleted through its own Graph resource
(https://learn.microsoft.com/graph/api/resources/subscription). The decisions —
which resource, which expiry, when to renew, whether a notification is genuine —
are pure and live in :mod:`m365_graph.sync.notifications`.

Rules kept here:

* creation goes with ``Prefer: IdType="ImmutableId"`` (``GraphClient`` sends it on
  every request), so the event ids the notifications carry stay valid when an
  event moves between folders (https://learn.microsoft.com/graph/outlook-immutable-id);
* creating is not safe to resend blindly (a lost answer may have created a
  subscription): it is sent once, and a duplicate left behind is found by
  :func:`list_subscriptions` and removed by the caller's cleanup;
* Graph validates the notification URL *during* the POST (a ``validationToken``
  handshake answered within 10 seconds); a failed handshake is a 400 whose message
  says so, raised as it is;
* a subscription Graph no longer has answers 404: :class:`~m365_graph.core.errors.NotFound`
  on renew/reauthorize (the caller creates it again), success on delete.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from ..core.client import GraphClient
from ..core.errors import BadResponse, NotFound
from ..sync.notifications import (
    CHANGE_TYPES,
    GraphSubscription,
    graph_time,
    parse_subscription,
)

__all__ = [
    "create_subscription",
    "delete_subscription",
    "get_subscription",
    "list_subscriptions",
    "reauthorize_subscription",
    "renew_subscription",
]

#: Reading events is what a subscription to them needs (application or delegated).
PERMISSION = "Calendars.Read"


def _path(subscription_id: str) -> str:
    return f"/subscriptions/{quote(subscription_id, safe='')}"


def _subscription(body, what: str) -> GraphSubscription:
    try:
        return parse_subscription(body)
    except ValueError as exc:
        raise BadResponse(f"{what}: {exc}") from exc


def create_subscription(
    client: GraphClient,
    resource: str,
    notification_url: str,
    client_state: str,
    expires: datetime,
    *,
    lifecycle_url: str | None = None,
    change_type: str = CHANGE_TYPES,
) -> GraphSubscription:
    """Create a subscription to ``resource`` (e.g. ``users/{id}/events``)."""
    body = {
        "changeType": change_type,
        "notificationUrl": notification_url,
        "resource": resource,
        "expirationDateTime": graph_time(expires),
        "clientState": client_state,
        "latestSupportedTlsVersion": "v1_2",
    }
    if lifecycle_url:
        body["lifecycleNotificationUrl"] = lifecycle_url
    what = f"Subscribing to the changes of {resource}"
    response = client.request(
        "POST",
        "/subscriptions",
        json=body,
        retry_safe=False,
        what=what,
        permission=PERMISSION,
        mailboxes=[],
    )
    return _subscription(response.json_object(what), what)


def renew_subscription(
    client: GraphClient, subscription_id: str, expires: datetime
) -> GraphSubscription:
    """Move a subscription's expiry (PATCH); ``NotFound`` when Graph dropped it."""
    what = f"Renewing the change-notification subscription {subscription_id}"
    response = client.request(
        "PATCH",
        _path(subscription_id),
        json={"expirationDateTime": graph_time(expires)},
        retry_safe=True,
        what=what,
        permission=PERMISSION,
        mailboxes=[],
    )
    return _subscription(response.json_object(what), what)


def reauthorize_subscription(client: GraphClient, subscription_id: str) -> None:
    """Answer ``reauthorizationRequired`` (POST …/reauthorize); ``NotFound`` if gone."""
    client.request(
        "POST",
        f"{_path(subscription_id)}/reauthorize",
        retry_safe=True,
        what=f"Reauthorizing the change-notification subscription {subscription_id}",
        permission=PERMISSION,
        mailboxes=[],
    )


def delete_subscription(client: GraphClient, subscription_id: str) -> bool:
    """Delete a subscription; False when Graph had no such subscription any more."""
    try:
        client.request(
            "DELETE",
            _path(subscription_id),
            what=f"Deleting the change-notification subscription {subscription_id}",
            mailboxes=[],
        )
    except NotFound:
        return False
    return True


def get_subscription(client: GraphClient, subscription_id: str) -> GraphSubscription | None:
    """The subscription as Graph has it, None when it is gone."""
    what = f"Reading the change-notification subscription {subscription_id}"
    try:
        body = client.get_json(_path(subscription_id), what=what, mailboxes=[])
    except NotFound:
        return None
    return _subscription(body, what)


def list_subscriptions(client: GraphClient) -> Iterator[GraphSubscription]:
    """Every subscription of the caller (the app, or the signed-in user's)."""
    for item in client.iter_items(
        "/subscriptions", what="Listing change-notification subscriptions"
    ):
        try:
            yield parse_subscription(item)
        except ValueError:
            continue
