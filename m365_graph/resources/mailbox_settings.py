"""Mailbox settings: the automatic replies of many mailboxes, read and scheduled.

Why this file exists: time off can schedule the employee's Outlook automatic
replies, and automatic replies scheduled in Outlook are absences worth a time off
request. Both go through ``/users/{id}/mailboxSettings`` (Graph docs, "Get user
mailbox settings", "Update user mailbox settings"; application
``MailboxSettings.Read`` / ``MailboxSettings.ReadWrite``), in ``$batch`` (20
mailboxes per round trip). A mailbox that fails answers its own error; the
others go on. Only the documented properties are sent: tenants report
``ErrorInvalidRequest`` "The OData request is not supported." for bodies with
anything else (microsoftgraph/microsoft-graph-docs#5007).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError
from ..core.types import BatchRequest
from ..sync.absences import AutoReplies, auto_replies_body
from .calendar import calendar_path

__all__ = ["read_auto_replies", "set_auto_replies"]


def read_auto_replies(
    client: GraphClient, mailboxes: Iterable[str]
) -> dict[str, AutoReplies | GraphError]:
    wanted = list(dict.fromkeys(mailboxes))
    if not wanted:
        return {}
    requests = [
        BatchRequest(id=str(i), method="GET", url=f"{calendar_path(m)}/mailboxSettings")
        for i, m in enumerate(wanted)
    ]
    answers = client.batch(requests, what="Reading automatic replies ($batch of mailboxSettings)")
    out: dict[str, AutoReplies | GraphError] = {}
    for mailbox, answer in zip(wanted, answers, strict=True):
        error = answer.error(f"Reading the mailbox settings of {mailbox}", "MailboxSettings.Read")
        out[mailbox] = error if error is not None else AutoReplies.from_graph(answer.body)
    return out


def set_auto_replies(
    client: GraphClient, changes: Iterable[tuple[str, tuple[datetime, datetime] | None, str]]
) -> dict[str, GraphError | None]:
    """``changes``: ``(mailbox, (start, end) or None to disable, message)``."""
    wanted = list(changes)
    if not wanted:
        return {}
    requests = []
    for i, (mailbox, window, message) in enumerate(wanted):
        body = (
            auto_replies_body(window[0], window[1], message)
            if window
            else {"automaticRepliesSetting": {"status": "disabled"}}
        )
        requests.append(
            BatchRequest(
                id=str(i),
                method="PATCH",
                url=f"{calendar_path(mailbox)}/mailboxSettings",
                body=body,
            )
        )
    answers = client.batch(requests, what="Scheduling automatic replies ($batch)")
    out: dict[str, GraphError | None] = {}
    for (mailbox, _window, _message), answer in zip(wanted, answers, strict=True):
        error = answer.error(
            f"Scheduling the automatic replies of {mailbox}", "MailboxSettings.ReadWrite"
        )
        if error is None and not isinstance(answer.body, dict):
            error = BadResponse("the mailbox settings answer is not a JSON object")
        out[mailbox] = error
    return out
