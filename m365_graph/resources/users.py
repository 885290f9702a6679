"""Directory users: the users-delta reader of contact sync, and single-user reads.

Why this file exists: contact sync reads every user once (the baseline) and then only
changes, with ``/users/delta?$select=…`` (application permission ``User.Read.All``,
admin consent). Delta tokens live about 7 days; after a longer outage Graph answers
``syncStateNotFound`` and the baseline is rebuilt (``DeltaResult.restarted``).
``$select`` belongs to the first request only: the next and delta links carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError
from ..core.types import USER_SELECT, BatchRequest, DeltaResult, GraphUser, Page

__all__ = ["USER_SELECT", "get_me", "get_user", "get_users", "users_delta"]

USERS_PERMISSION = "User.Read.All"


def users_delta(
    client: GraphClient,
    delta_link: str | None = None,
    *,
    resume_link: str | None = None,
    select: Sequence[str] = USER_SELECT,
    page_size: int | None = None,
    restart_on_expired: bool = True,
    on_page: Callable[[Page], None] | None = None,
) -> DeltaResult[GraphUser]:
    """One users-delta round: new/changed users, removed users, the next delta link.

    Pass the ``delta_link`` stored after the previous round (``None`` for a baseline)
    or the ``resume_link`` (``next_link``) of an interrupted round.
    """
    return client.delta_round(
        "/users/delta",
        parse=GraphUser.from_graph,
        params={"$select": ",".join(select)},
        delta_link=delta_link,
        resume_link=resume_link,
        page_size=page_size,
        what="Reading directory users (users delta)",
        permission=USERS_PERMISSION,
        restart_on_expired=restart_on_expired,
        on_page=on_page,
    )


def get_user(
    client: GraphClient, id_or_upn: str, *, select: Sequence[str] = USER_SELECT
) -> GraphUser:
    """One user by id or UPN."""
    body = client.get_json(
        f"/users/{quote(id_or_upn, safe='@')}",
        params={"$select": ",".join(select)},
        what=f"Reading user {id_or_upn}",
        permission=USERS_PERMISSION,
    )
    return GraphUser.from_graph(body)


def get_users(
    client: GraphClient, ids: Sequence[str], *, select: Sequence[str] = USER_SELECT
) -> tuple[dict[str, GraphUser], dict[str, GraphError]]:
    """Several users by id through ``$batch`` (20 per round trip).

    Returns ``(users, errors)``: a user that no longer exists is in ``errors`` as
    :class:`~m365_graph.core.errors.NotFound`; one failure does not stop the others.
    """
    wanted = list(dict.fromkeys(ids))
    query = "$select=" + ",".join(select)
    requests_ = [
        BatchRequest(id=str(index), method="GET", url=f"/users/{quote(user_id, safe='')}?{query}")
        for index, user_id in enumerate(wanted)
    ]
    users: dict[str, GraphUser] = {}
    errors: dict[str, GraphError] = {}
    answers = client.batch(requests_, what="Reading directory users") if requests_ else []
    for user_id, answer in zip(wanted, answers, strict=True):
        error = answer.error(f"Reading user {user_id}", permission=USERS_PERMISSION)
        if error is not None:
            errors[user_id] = error
            continue
        try:
            users[user_id] = GraphUser.from_graph(answer.body)
        except BadResponse as exc:
            errors[user_id] = exc
    return users, errors


def get_me(client: GraphClient, *, select: Sequence[str] = USER_SELECT) -> GraphUser:
    """The signed-in user of a delegated client (``User.Read``)."""
    body = client.get_json(
        "/me",
        params={"$select": ",".join(select)},
        what="Reading the signed-in user",
        permission="User.Read",
    )
    return GraphUser.from_graph(body)
