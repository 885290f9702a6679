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
from typing import Any

from .errors import BadResponse
from .mailbox import mailbox_of
from .retry import NOT_APPLIED_STATUSES, RETRYABLE_STATUSES
from .types import BatchRequest, BatchResponse

__all__ = ["MAX_BATCH", "Batching", "parse_batch_body", "plan_chunks"]

MAX_BATCH = 20
_FAILED_DEPENDENCY = 424
_NO_ANSWER = 502


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


def _missing(ident: str, why: str) -> dict[str, Any]:
    """A stand-in answer for a sub-request Graph did not answer usably (502: resent
    only when the request may be sent twice)."""
    return {
        "status": _NO_ANSWER,
        "headers": {},
        "body": {"error": {"code": "missingResponse", "message": why}},
    }


def parse_batch_body(body: Any, expected: set[str], what: str) -> dict[str, dict[str, Any]]:
    """``{"responses": [{"id", "status", "headers", "body"}]}`` → ``{id: response}``.

    Only a body without a ``responses`` list fails the whole batch. A malformed
    sub-response (not an object, no id, no numeric status) or a missing one stands
    for its request alone: it gets a 502 "no usable answer", retried like one.
    """
    if not isinstance(body, dict) or not isinstance(body.get("responses"), list):
        raise BadResponse(f"{what}: the $batch answer has no 'responses' list", field="responses")
    out: dict[str, dict[str, Any]] = {}
    for item in body["responses"]:
        if not isinstance(item, dict):
            continue
        ident, status = item.get("id"), item.get("status")
        if not isinstance(ident, str) or ident not in expected or ident in out:
            continue
        if isinstance(status, str) and status.strip().isdigit():
            status = int(status.strip())
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            out[ident] = _missing(
                ident, f"the $batch response has no valid status ({status!r:.40})"
            )
            continue
        headers = item.get("headers") or {}
        if not isinstance(headers, Mapping):
            headers = {}
        out[ident] = {
            "status": status,
            "headers": {str(k): str(v) for k, v in headers.items()},
            "body": item.get("body"),
        }
    for ident in expected - out.keys():
        out[ident] = _missing(ident, "the $batch answer has no response for this request")
    return out


class Batching:
    """The ``$batch`` method of :class:`~m365_graph.core.client.GraphClient` (a base class).

    ``self`` is the client: its ``request``, ``prefer``, ``retry``, ``budget``,
    ``counters`` and ``_wait`` are used.
    """

    def batch(
        self, requests: Sequence[BatchRequest], *, what: str = "Microsoft Graph batch request"
    ) -> list[BatchResponse]:
        """Run ``requests`` through ``$batch``; return one response per request, same order.

        Failed sub-requests are *returned* (``BatchResponse.error()`` maps them) so that one
        mailbox's 403 does not stop the others; only failures of the whole ``$batch``
        call raise.
        """
        results: dict[str, BatchResponse] = {}
        for chunk in plan_chunks(requests):
            results.update(self._batch_chunk(chunk, what))
        return [results[r.id] for r in requests]

    def _batch_item(self, req: BatchRequest) -> dict[str, Any]:
        payload = req.as_json()
        headers = dict(payload.get("headers") or {})
        extra = None
        for key in list(headers):
            if key.lower() == "prefer":
                extra = headers.pop(key)
        headers["Prefer"] = self.prefer(req.method, extra=extra)
        payload["headers"] = headers
        return payload

    def _batch_chunk(self, chunk: list[BatchRequest], what: str) -> dict[str, BatchResponse]:
        policy = self.retry
        attempts = dict.fromkeys((r.id for r in chunk), 0)
        final: dict[str, BatchResponse] = {}
        pending = list(chunk)
        round_no = 0

        def done(req: BatchRequest, answer: dict[str, Any], dependency: str | None = None) -> None:
            final[req.id] = BatchResponse(
                req.id,
                answer["status"],
                answer["headers"],
                answer["body"],
                attempts[req.id],
                dependency=dependency,
            )

        while pending:
            round_no += 1
            for req in pending:
                attempts[req.id] += 1
            response = self.request(
                "POST",
                "/$batch",
                json={"requests": [self._batch_item(r) for r in pending]},
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
            succeeded = 0
            for req in pending:
                answer = answers[req.id]
                status = answer["status"]
                if 200 <= status < 400:
                    succeeded += 1
                if status in NOT_APPLIED_STATUSES:
                    self.counters.add(throttled=1)
                if status in RETRYABLE_STATUSES and (
                    req.is_retry_safe or status in NOT_APPLIED_STATUSES
                ):
                    retry.append(req)
                    retry_ids.add(req.id)
                    wait = policy.retry_after(answer["headers"])
                    if wait is not None:
                        waits.append(wait)
            # 424 Failed Dependency: the request was not run. Resend it with its
            # dependency when that one is resent; resend it alone when its
            # dependencies are fine after all; otherwise it fails, naming the
            # dependency whose failure stopped it.
            failed_dep: dict[str, str] = {}
            changed = True
            while changed:
                changed = False
                for req in pending:
                    if answers[req.id]["status"] != _FAILED_DEPENDENCY or req.id in retry_ids:
                        continue
                    if req.id in failed_dep:
                        continue
                    if retry_ids.intersection(req.depends_on):
                        retry.append(req)
                        retry_ids.add(req.id)
                        changed = True
                        continue
                    bad = [
                        d
                        for d in req.depends_on
                        if d in failed_dep or not (200 <= _status_of(d, answers, final) < 400)
                    ]
                    if bad:
                        failed_dep[req.id] = bad[0]
                        changed = True
                    elif req.depends_on or req.is_retry_safe:
                        retry.append(req)
                        retry_ids.add(req.id)
                        changed = True
            for req in pending:
                if req.id not in retry_ids:
                    done(req, answers[req.id], failed_dep.get(req.id))
            if any(answers[r.id]["status"] == 403 for r in pending):
                self.note_refused()
            if not retry:
                self.budget.succeeded()
                break
            if succeeded:
                self.budget.succeeded()
            else:
                self.budget.failed()
            retry_after = max(waits) if waits else None
            if policy.should_give_up(round_no, retry_after) or self.budget.is_open:
                for req in retry:
                    done(req, answers[req.id])
                self.counters.add(failed=len(retry))
                if self.budget.is_open:
                    raise self.budget.error(what, self.host, _last(answers, retry))
                break
            self._wait(what, policy.delay(round_no, retry_after), _last(answers, retry))
            self.counters.add(retried=len(retry) - 1)  # _wait counted one
            # Keep the original order; drop dependencies that already succeeded.
            order = {r.id: i for i, r in enumerate(chunk)}
            pending = [
                dataclasses.replace(r, depends_on=tuple(d for d in r.depends_on if d in retry_ids))
                for r in sorted(retry, key=lambda r: order[r.id])
            ]
        return final


def _status_of(
    ident: str, answers: Mapping[str, dict[str, Any]], final: Mapping[str, BatchResponse]
) -> int:
    if ident in answers:
        return int(answers[ident]["status"])
    if ident in final:
        return final[ident].status
    return 200  # a dependency answered OK in an earlier round


def _last(answers: Mapping[str, dict[str, Any]], retry: Sequence[BatchRequest]) -> str:
    statuses = sorted({int(answers[r.id]["status"]) for r in retry if r.id in answers})
    return f"$batch items answered HTTP {', '.join(map(str, statuses))}"
