"""Directory endpoints: ``/users``, ``/users/{id|upn}``, ``/me``, ``/users/delta``
(the room list is ``place_handlers.py``).

Shapes follow Graph v1.0: a default property set when there is no
``$select``, ``@odata.context``, pages of ``$top`` (default 100, max 999)
linked by ``@odata.nextLink`` with an opaque ``$skiptoken``. ``/users/delta``
runs rounds: pages, then ``@odata.deltaLink``; a later round returns only the
users that changed — with ``id`` plus the selected properties that changed —
and removed users as ``{"id", "@removed": {"reason"}}``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..identity import token_permissions
from ..tenant.service_errors import GraphError, sync_state_not_found, user_not_found
from ..tenant.tenant_state import USER_DEFAULT_PROPERTIES, USER_PROPERTIES
from .filter_expressions import compile_filter
from .odata_query import decode_token, encode_token, link, page_size, parse_select
from .wire_types import GraphRequest, GraphResponse, ok

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext

USER_TYPE = "microsoft.graph.user"


def _select(req: GraphRequest) -> list[str] | None:
    return parse_select(req.query.get("$select"), USER_PROPERTIES, USER_TYPE, "BadRequest")


def _shape(props: dict, select: list[str] | None) -> dict:
    names = select if select is not None else USER_DEFAULT_PROPERTIES
    result = {name: copy.deepcopy(props.get(name)) for name in names}
    result["id"] = props["id"]
    return result


def _context(base: str, select: list[str] | None, suffix: str = "") -> str:
    fields = f"({','.join(select)})" if select else ""
    return f"{base}/$metadata#users{fields}{suffix}"


def _reject_unsupported(req: GraphRequest, allowed: set[str]) -> None:
    for name in req.query:
        if name.startswith("$") and name not in allowed:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"The query parameter '{name}' is not supported here.",
            )


def list_users(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    token_permissions.require_directory_read(req.principal)
    _reject_unsupported(req, {"$select", "$filter", "$top", "$skiptoken", "$count", "$orderby"})
    select = _select(req)
    size, _ = page_size(req.query, req.prefer, 100, 999)
    offset = 0
    if "$skiptoken" in req.query:
        token = decode_token(req.query["$skiptoken"])
        if not token or token.get("k") != "users":
            raise GraphError(
                400,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your "
                "request.",
            )
        offset = int(token.get("o", 0))
    records = ctx.state.user_records()
    candidates = [r.props for r in records]
    if "$filter" in req.query:
        predicate = compile_filter(req.query["$filter"], USER_PROPERTIES)
        candidates = [p for p in candidates if predicate(p)]
    if "$orderby" in req.query:
        name, _, direction = req.query["$orderby"].strip().partition(" ")
        if name not in ("displayName", "userPrincipalName"):
            raise GraphError(
                400, "Request_UnsupportedQuery", f"Sorting by '{name}' is not supported."
            )
        candidates.sort(
            key=lambda p: (p.get(name) or "").lower(), reverse=direction.strip().lower() == "desc"
        )
    page = candidates[offset : offset + size]
    body = {
        "@odata.context": _context(ctx.graph_url, select),
        "value": [_shape(p, select) for p in page],
    }
    if req.query.get("$count", "").lower() == "true":
        if (req.headers.get("ConsistencyLevel") or "").lower() != "eventual":
            raise GraphError(
                400,
                "Request_BadRequest",
                "$count is only supported with the header 'ConsistencyLevel: eventual'.",
            )
        body = {
            "@odata.context": body["@odata.context"],
            "@odata.count": len(candidates),
            "value": body["value"],
        }
    if offset + size < len(candidates):
        params = {k: req.query.get(k) for k in ("$select", "$filter", "$orderby", "$count")}
        params["$top"] = req.query.get("$top")
        params["$skiptoken"] = encode_token({"k": "users", "o": offset + size})
        body["@odata.nextLink"] = link(ctx.graph_url, "/users", params)
    return ok(body)


def get_user(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    ref = req.params["user"]
    record = ctx.state.user_record(ref)
    # Graph checks privileges first: a caller without directory access gets 403
    # even for a user that does not exist.
    if record is None:
        token_permissions.require_user_read(req.principal, "")
        raise user_not_found(ref)
    token_permissions.require_user_read(req.principal, record.props["id"])
    select = _select(req)
    body = {
        "@odata.context": _context(ctx.graph_url, select, "/$entity"),
        **_shape(record.props, select),
    }
    return ok(body)


def get_me(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    if req.principal.is_app:
        raise GraphError(
            400, "BadRequest", "/me request is only valid with delegated authentication flow."
        )
    record = ctx.state.user_record(req.principal.user_id or "")
    if record is None:
        raise user_not_found(req.principal.user_id or "me")
    token_permissions.require_user_read(req.principal, record.props["id"])
    select = _select(req)
    body = {
        "@odata.context": _context(ctx.graph_url, select, "/$entity"),
        **_shape(record.props, select),
    }
    return ok(body)


# -- delta -------------------------------------------------------------------------


def users_delta(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    token_permissions.require_users_delta(req.principal)
    state = ctx.state
    token_text = req.query.get("$deltatoken") or req.query.get("$skiptoken")
    latest = "latest"  # $deltatoken=latest: a keyword, not a secret
    if token_text == latest and "$deltatoken" in req.query:
        # "Give me a token for now" — an empty page and a deltaLink.
        select = _select(req)
        token = _new_token(state, select, state.seq)
        return ok(
            {
                "@odata.context": _context(ctx.graph_url, select),
                "value": [],
                "@odata.deltaLink": _delta_link(ctx, token),
            }
        )
    if token_text:
        token = decode_token(token_text)
        if not token or token.get("k") != "udelta" or not _token_alive(state, token):
            raise sync_state_not_found()
        if "$deltatoken" in req.query:
            # A new round: changes since the token, counted up to now.
            token = {**token, "n": state.seq, "a": -1}
        select = token.get("s")
    else:
        _reject_unsupported(req, {"$select", "$top"})
        select = _select(req)
        token = {
            "k": "udelta",
            "s": select,
            "q": -1,
            "n": state.seq,
            "a": -1,
            "g": state.delta_generation,
        }
    # Keyset paging on the users' creation numbers: a change between two pages
    # never makes an unchanged user slip past the boundary (changed users are
    # reported again by the next round anyway).
    after = token.get("a", -1)
    items = [(key, item) for key, item in _delta_items(state, token["q"], select) if key > after]
    size, applied = page_size(req.query, req.prefer, 100, 999)
    page = items[:size]
    body = {
        "@odata.context": _context(ctx.graph_url, select),
        "value": [item for _key, item in page],
    }
    if len(items) > size:
        nxt = {**token, "a": page[-1][0], "t": _stamp(state)}
        body["@odata.nextLink"] = link(
            ctx.graph_url, "/users/delta", {"$skiptoken": encode_token(nxt)}
        )
    else:
        body["@odata.deltaLink"] = _delta_link(ctx, _new_token(state, select, token["n"]))
    headers = {"Preference-Applied": f"odata.maxpagesize={size}"} if applied else {}
    return ok(body, headers=headers)


def _stamp(state) -> int:
    return int(state.now().timestamp())


def _new_token(state, select, seq: int) -> dict:
    return {
        "k": "udelta",
        "s": select,
        "q": seq,
        "n": state.seq,
        "a": -1,
        "g": state.delta_generation,
        "t": _stamp(state),
    }


def _delta_link(ctx: HandlerContext, token: dict) -> str:
    return link(ctx.graph_url, "/users/delta", {"$deltatoken": encode_token(token)})


def _token_alive(state, token: dict) -> bool:
    if token.get("g") != state.delta_generation:
        return False
    issued = token.get("t")
    return issued is None or _stamp(state) - int(issued) <= state.delta_token_lifetime


def _delta_items(state, since: int, select: list[str] | None) -> list[tuple[int, dict]]:
    """(creation number, item) of what a round since ``since`` reports, in key order."""
    names = select if select is not None else list(USER_DEFAULT_PROPERTIES)
    items = []
    for record in state.user_records():
        if record.ver <= since:
            continue
        if record.created_seq > since:
            items.append((record.created_seq, _shape(record.props, select)))
            continue
        changed = [n for n in names if record.changed.get(n, -1) > since and n != "id"]
        if not changed:
            continue  # only unselected properties changed: nothing to report
        entry = {"id": record.props["id"]}
        for name in changed:
            entry[name] = copy.deepcopy(record.props.get(name))
        items.append((record.created_seq, entry))
    for seq, user_id, reason, created_seq in state.user_tombstones():
        if seq > since and created_seq <= since:
            items.append((created_seq, {"id": user_id, "@removed": {"reason": reason}}))
    items.sort(key=lambda item: item[0])
    return items
