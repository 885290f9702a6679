"""JSON batching: ``POST /v1.0/$batch``.

Graph runs up to 20 requests from one call; each item
``{"id", "method", "url", "headers", "body", "dependsOn"}`` has a URL relative
to the version root, and items with a body must say their ``Content-Type``.
Answers come back as ``{"responses": [{"id", "status", "headers", "body"}]}``
in *any* order (the sandbox shuffles them with a seeded RNG so clients that
match by position break here as they would on Graph). ``dependsOn`` orders
execution; an item whose dependency failed answers 424 Failed Dependency
(Graph docs, "Combine multiple HTTP requests using JSON batching",
https://learn.microsoft.com/graph/json-batching: "If an individual request
fails, any request that depends on that request fails with status code 424").

Each item is a full Graph request for routing, permissions, faults and the
request log. Items to the same mailbox count as concurrent requests to it,
so a batch with more than 4 independent items for one mailbox gets 429
``ApplicationThrottled`` items, each with its own ``Retry-After``; items chained
with ``dependsOn`` run one after the other and share one slot (the documented way
to send many writes to one mailbox in one batch).
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from ..tenant.request_log import HeaderDict, LogRecord
from ..tenant.service_errors import GraphError, graph_error_body
from .wire_types import (
    JSON_TYPE,
    DropConnection,
    GraphRequest,
    GraphResponse,
    json_body,
    new_request,
    ok,
    throttled,
)

if TYPE_CHECKING:
    from .router import GraphService

MAX_REQUESTS = 20


def _bad(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def _parse_items(payload: dict) -> list[dict]:
    items = payload.get("requests")
    if not isinstance(items, list) or not items:
        raise _bad("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(items) > MAX_REQUESTS:
        raise _bad(
            f"Invalid batch payload format. The number of requests ({len(items)}) exceeds the "
            f"limit of {MAX_REQUESTS}."
        )
    seen = set()
    for item in items:
        if not isinstance(item, dict):
            raise _bad("Invalid batch payload format: every request must be an object.")
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise _bad("Invalid batch payload format: every request needs a string 'id'.")
        if item_id in seen:
            raise _bad(f"Batch request id '{item_id}' is duplicated.")
        seen.add(item_id)
        if not item.get("method") or not item.get("url"):
            raise _bad(f"Batch request '{item_id}' needs 'method' and 'url'.")
        headers = HeaderDict(item.get("headers") or {})
        if item.get("body") is not None and "content-type" not in headers:
            raise _bad(
                f"Write request id : {item_id} does not contain Content-Type header or body."
            )
        url = str(item["url"])
        if "://" in url:
            raise _bad(
                f"Batch request '{item_id}': the url must be relative to the version root, e.g. "
                "/users."
            )
    for item in items:
        depends = item.get("dependsOn") or []
        if not isinstance(depends, list):
            raise _bad(f"Batch request '{item['id']}': dependsOn must be an array.")
        for dep in depends:
            if dep not in seen:
                raise _bad(
                    f"Batch request '{item['id']}' depends on '{dep}', which is not in the batch."
                )
    return items


def _order(items: list[dict]) -> list[dict]:
    """Request order, moved only as far as dependsOn requires (cycles are a 400)."""
    done: set[str] = set()
    ordered: list[dict] = []
    pending = list(items)
    while pending:
        progressed = False
        for item in list(pending):
            if all(dep in done for dep in item.get("dependsOn") or []):
                ordered.append(item)
                done.add(item["id"])
                pending.remove(item)
                progressed = True
        if not progressed:
            raise _bad("The dependsOn graph of the batch has a cycle.")
    return ordered


def _item_request(item: dict, top: GraphRequest) -> GraphRequest:
    url = str(item["url"])
    url = url if url.startswith("/") else "/" + url
    parts = urlsplit(url)
    path = unquote(parts.path)
    for prefix in ("/v1.0", "/beta"):
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    headers = HeaderDict(item.get("headers") or {})
    body = item.get("body")
    raw = b""
    if isinstance(body, str) and "json" not in (headers.get("content-type") or "").lower():
        # Non-JSON bodies travel base64-encoded.
        try:
            raw = base64.b64decode(body)
        except ValueError:
            raw = body.encode()
        body = None
    elif body is not None:
        raw = json.dumps(body).encode()
    req = new_request(item["method"], path, query, headers, raw, in_batch=True, body=body)
    req.principal = top.principal
    req.params["_batch_id"] = item["id"]
    return req


def _item_response(item_id: str, response: GraphResponse) -> dict:
    result = {"id": item_id, "status": response.status}
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("request-id", "client-request-id")
    }
    if response.body is not None:
        headers.setdefault("Content-Type", JSON_TYPE)
    result["headers"] = headers
    if response.body is not None:
        result["body"] = response.body
    return result


def handle_batch(svc: GraphService, req: GraphRequest, latency: float = 0.0) -> GraphResponse:
    payload = json_body(req)
    items = _order(_parse_items(payload))
    requests = {item["id"]: _item_request(item, req) for item in items}
    faults = svc.ctx.faults

    # Items to one mailbox are concurrent requests to it: take the slots up front.
    # An item that dependsOn an item of the same mailbox runs after it, in its slot
    # (a dependsOn chain is sequential: one request in flight at a time).
    held, throttled_ids = [], set()
    slot_of: dict[str, tuple] = {}
    for item in items:
        item_req = requests[item["id"]]
        try:
            route, params = svc.match_route(item_req.method, item_req.path)
        except GraphError:
            continue
        mailbox = svc.resolve_mailbox(route, params, req.principal)
        if mailbox and route.mailbox:
            slot = (req.principal.client_id, mailbox)
            if any(slot_of.get(dep) == slot for dep in item.get("dependsOn") or []):
                slot_of[item["id"]] = slot
            elif faults.acquire(slot):
                held.append(slot)
                slot_of[item["id"]] = slot
            else:
                throttled_ids.add(item["id"])
    results: dict[str, GraphResponse] = {}
    dropped_after = False
    try:
        time.sleep(latency)
        for item in items:
            item_id = item["id"]
            item_req = requests[item_id]
            failed = [d for d in item.get("dependsOn") or [] if results[d].status >= 400]
            if failed:
                body = graph_error_body(
                    "FailedDependency",
                    f"The request depends on request(s) {', '.join(failed)}, which failed.",
                    item_req.request_id,
                    item_req.client_request_id,
                )
                results[item_id] = GraphResponse(424, body, {"Content-Type": JSON_TYPE})
                _log_dependency_failure(svc, item_req)
                continue
            if item_id in throttled_ids:
                results[item_id] = _log_throttled(svc, item_req)
                continue
            try:
                results[item_id] = svc.execute(item_req, limit_concurrency=False)
            except DropConnection as drop:
                if not drop.after:
                    raise
                dropped_after = True
                results[item_id] = GraphResponse(200, None, {})
    finally:
        for slot in held:
            faults.release(slot)
    if dropped_after:
        raise DropConnection(after=True)
    responses = [_item_response(item["id"], results[item["id"]]) for item in items]
    svc.ctx.batch_rng.shuffle(responses)
    return ok({"responses": responses})


def _log_throttled(svc: GraphService, item_req: GraphRequest) -> GraphResponse:
    error = throttled(svc.ctx.faults.concurrency_retry_after)
    response = GraphResponse(
        429,
        error.body(item_req.request_id, item_req.client_request_id),
        {"Content-Type": JSON_TYPE, **error.headers},
    )
    route_mailbox = None
    try:
        route, params = svc.match_route(item_req.method, item_req.path)
        route_mailbox = svc.resolve_mailbox(route, params, item_req.principal)
    except GraphError:
        pass
    svc.ctx.log.append(
        LogRecord(
            method=item_req.method,
            path="/v1.0" + item_req.path,
            query=dict(item_req.query),
            headers=item_req.headers,
            status=429,
            in_batch=True,
            mailbox=route_mailbox,
            request_id=item_req.request_id,
            batch_item_id=item_req.params.get("_batch_id"),
            started=time.time(),
            fault="concurrency",
        )
    )
    return response


def _log_dependency_failure(svc: GraphService, item_req: GraphRequest) -> None:
    svc.ctx.log.append(
        LogRecord(
            method=item_req.method,
            path="/v1.0" + item_req.path,
            query=dict(item_req.query),
            headers=item_req.headers,
            status=424,
            in_batch=True,
            request_id=item_req.request_id,
            batch_item_id=item_req.params.get("_batch_id"),
            started=time.time(),
        )
    )
