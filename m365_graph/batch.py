"""JSON batching (``POST /$batch``): up to 20 sub-requests per HTTP round trip.

Why this file exists: ``$batch`` is how busy-time import reads 1,000 mailboxes
without 1,000 round trips, and it has its own rules (Graph docs, "JSON batching"):

* at most 20 requests per batch — longer lists are split, keeping every request in
  the same batch as the requests it ``dependsOn``;
* responses come back in any order: they are matched by ``id``;
* the batch itself usually answers 200 while each sub-response has its own status,
  and a sub-response can be throttled (429, with its own ``Retry-After``) or fail
  with 5xx. Only those sub-requests are sent again — in a new, smaller batch —
  after waiting the longest ``Retry-After`` among them (or a jittered backoff),
  with the same bounded attempts as plain requests. A request whose dependency
  failed gets 424; it is resent together with that dependency.
* Sub-requests carry their own headers: the outer request's ``Prefer`` does not
  reach them, so each gets the client's ``Prefer`` value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import BadResponse
from .mailbox import mailbox_of
from .models import BatchRequest, BatchResponse
from .retry import NOT_APPLIED_STATUSES, RETRYABLE_STATUSES

if TYPE_CHECKING:
    from .client import GraphClient

__all__ = ["MAX_BATCH", "execute_batch", "parse_batch_body", "plan_chunks"]

MAX_BATCH = 20
_FAILED_DEPENDENCY = 424


def plan_chunks(
    requests: Sequence[BatchRequest], max_size: int = MAX_BATCH
) -> list[list[BatchRequest]]:
    """Split into batches of at most ``max_size``, dependency groups kept together.

    Order is preserved within and across batches. ``ValueError`` for duplicate ids,
    unknown ``dependsOn`` ids, or a dependency group larger than one batch.
    """
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    known = set(ids)
    # Union-find over dependsOn edges: a group must travel in one batch.
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for req in requests:
        for dep in req.depends_on:
            if dep not in known:
                raise ValueError(f"request {req.id!r} depends on unknown id {dep!r}")
            parent[find(req.id)] = find(dep)
    groups: dict[str, list[BatchRequest]] = {}
    for req in requests:
        groups.setdefault(find(req.id), []).append(req)
    chunks: list[list[BatchRequest]] = []
    current: list[BatchRequest] = []
    for group in groups.values():
        if len(group) > max_size:
            raise ValueError(f"{len(group)} requests depend on each other; the limit is {max_size}")
        if len(current) + len(group) > max_size:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks


def parse_batch_body(body: Any, expected: set[str], what: str) -> dict[str, dict[str, Any]]:
    """``{"responses": [{"id", "status", "headers", "body"}]}`` → ``{id: response}``."""
    if not isinstance(body, dict) or not isinstance(body.get("responses"), list):
        raise BadResponse(f"{what}: the $batch answer has no 'responses' list", field="responses")
    out: dict[str, dict[str, Any]] = {}
    for item in body["responses"]:
        if not isinstance(item, dict):
            raise BadResponse(f"{what}: a $batch response is not an object", field="responses")
        ident, status = item.get("id"), item.get("status")
        if not isinstance(ident, str):
            raise BadResponse(f"{what}: a $batch response has no 'id'", field="responses.id")
        if isinstance(status, bool) or not isinstance(status, int):
            raise BadResponse(
                f"{what}: $batch response {ident!r} has no numeric 'status'",
                field="responses.status",
            )
        headers = item.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise BadResponse(
                f"{what}: $batch response {ident!r} has invalid headers",
                field="responses.headers",
            )
        out[ident] = {
            "status": status,
            "headers": {str(k): str(v) for k, v in headers.items()},
            "body": item.get("body"),
        }
    missing = expected - out.keys()
    if missing:
        raise BadResponse(
            f"{what}: the $batch answer lacks responses for ids {sorted(missing)}",
            field="responses",
        )
    return out


def execute_batch(
    client: GraphClient, requests: Sequence[BatchRequest], *, what: str = "Microsoft Graph batch"
) -> list[BatchResponse]:
    """Run ``requests`` through ``$batch``; return one response per request, same order.

    Failed sub-requests are *returned* (``BatchResponse.error()`` maps them) so that one
    mailbox's 403 does not stop the others; only failures of the whole ``$batch``
    call raise.
    """
    results: dict[str, BatchResponse] = {}
    for chunk in plan_chunks(requests):
        results.update(_run_chunk(client, chunk, what))
    return [results[r.id] for r in requests]


def _with_prefer(client: GraphClient, req: BatchRequest) -> dict[str, Any]:
    payload = req.as_json()
    headers = dict(payload.get("headers") or {})
    extra = None
    for key in list(headers):
        if key.lower() == "prefer":
            extra = headers.pop(key)
    headers["Prefer"] = client.prefer(req.method, extra=extra)
    payload["headers"] = headers
    return payload


def _run_chunk(
    client: GraphClient, chunk: list[BatchRequest], what: str
) -> dict[str, BatchResponse]:
    policy = client.retry
    attempts = dict.fromkeys((r.id for r in chunk), 0)
    final: dict[str, BatchResponse] = {}
    pending = list(chunk)
    round_no = 0
    while pending:
        round_no += 1
        for req in pending:
            attempts[req.id] += 1
        response = client.request(
            "POST",
            "/$batch",
            json={"requests": [_with_prefer(client, r) for r in pending]},
            what=what,
            # The whole batch may be resent only if every sub-request may be.
            retry_safe=all(r.is_retry_safe for r in pending),
            mailboxes=[mailbox_of(r.url) for r in pending],
            batch_items=len(pending),
        )
        answers = parse_batch_body(response.body, {r.id for r in pending}, what)
        retry: list[BatchRequest] = []
        waits: list[float] = []
        retry_ids: set[str] = set()
        for req in pending:
            answer = answers[req.id]
            status = answer["status"]
            if status in NOT_APPLIED_STATUSES:
                client.counters.add(throttled=1)
            if status in RETRYABLE_STATUSES and (
                req.is_retry_safe or status in NOT_APPLIED_STATUSES
            ):
                retry.append(req)
                retry_ids.add(req.id)
                wait = policy.retry_after(answer["headers"])
                if wait is not None:
                    waits.append(wait)
        # 424 Failed Dependency: resend with the dependency when that one is resent.
        for req in pending:
            if (
                answers[req.id]["status"] == _FAILED_DEPENDENCY
                and req.id not in retry_ids
                and retry_ids.intersection(req.depends_on)
            ):
                retry.append(req)
                retry_ids.add(req.id)
        for req in pending:
            if req.id not in retry_ids:
                answer = answers[req.id]
                final[req.id] = BatchResponse(
                    req.id, answer["status"], answer["headers"], answer["body"], attempts[req.id]
                )
        if not retry:
            break
        retry_after = max(waits) if waits else None
        if policy.should_give_up(round_no, retry_after):
            for req in retry:
                answer = answers[req.id]
                final[req.id] = BatchResponse(
                    req.id, answer["status"], answer["headers"], answer["body"], attempts[req.id]
                )
            client.counters.add(failed=len(retry))
            break
        client.counters.add(retried=len(retry))
        policy.sleep(policy.delay(round_no, retry_after))
        # Keep the original order; drop dependencies that already succeeded.
        order = {r.id: i for i, r in enumerate(chunk)}
        pending = [
            dataclasses.replace(r, depends_on=tuple(d for d in r.depends_on if d in retry_ids))
            for r in sorted(retry, key=lambda r: order[r.id])
        ]
    return final
