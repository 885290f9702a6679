"""Busy time of many mailboxes at once: batched, concurrent calendarView reads.

Why this file exists: workload import reads about 1,000 mailboxes every 15 minutes.
One request per mailbox, one after the other, would spend most of that time waiting
on the network. This reader

* packs the first page of 20 mailboxes into each ``$batch`` (one round trip),
* follows each mailbox's ``@odata.nextLink`` by queueing it; next pages of several
  mailboxes travel together in later batches,
* keeps a small thread pool of batches in flight (each mailbox has at most one
  page request outstanding, so Outlook's 4-per-mailbox limit is never reached),
* reports per mailbox: a 403/404 (or a mailbox whose throttling outlasts our
  retries) is recorded for that mailbox while the others go on. Only a sign-in
  failure or a refused ``$batch`` call, which would fail every mailbox, stops the
  run.

Privacy: only ``start,end,showAs,categories,isAllDay,sensitivity,type`` are
selected — no subject, body, location or attendees ever leave Microsoft.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from ..core.client import GraphClient
from ..core.errors import AuthError, BadResponse, GraphError, GraphUnavailable, PermissionMissing
from ..core.paging import parse_page
from ..core.types import ITEM_ERRORS, BatchRequest, BatchResponse, BusySlot, SkippedItem, unreadable
from .calendar import BUSY_SELECT, calendar_path, read_permission, window_params

__all__ = ["MailboxCalendar", "read_busy_times"]


@dataclass
class MailboxCalendar:
    """What was read for one mailbox.

    ``ok`` is false when ``error`` is set: ``slots`` may then be incomplete and must
    not replace the busy slots already stored for that mailbox.
    """

    mailbox: str
    slots: list[BusySlot] = field(default_factory=list)
    error: GraphError | None = None
    skipped: list[SkippedItem] = field(default_factory=list)
    pages: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def read_busy_times(
    client: GraphClient,
    mailboxes: Iterable[str],
    start: datetime,
    end: datetime,
    *,
    workers: int = 4,
    page_size: int = 100,
    batch_size: int = 20,
    select: Sequence[str] = BUSY_SELECT,
    on_mailbox: Callable[[MailboxCalendar], None] | None = None,
    parse: Callable[[object], object] = BusySlot.from_graph,
) -> dict[str, MailboxCalendar]:
    """Busy slots between ``start`` and ``end`` for every mailbox (id or UPN).

    Returns ``{mailbox: MailboxCalendar}`` in the order given. ``on_mailbox`` is
    called (from the calling thread) as soon as a mailbox is complete or failed, so a
    long import can commit progress. ``parse`` turns one event into what ``slots``
    holds (room calendars keep their organiser: ``m365_graph.sync.rooms.RoomBlock``).
    """
    if not 1 <= batch_size <= 20:
        raise ValueError("a $batch holds 1 to 20 requests")
    results: dict[str, MailboxCalendar] = {}
    for mailbox in mailboxes:
        results.setdefault(mailbox, MailboxCalendar(mailbox))
    params = window_params(start, end)
    params["$select"] = ",".join(select)
    query = urlencode(params, safe="$,:")
    permission = read_permission(client, "")
    pending: deque[tuple[str, str]] = deque(
        (mb, f"{calendar_path(mb)}/calendarView?{query}") for mb in results
    )

    def run(chunk: list[tuple[str, str]]) -> list[BatchResponse]:
        reqs = [
            BatchRequest(
                id=str(i + 1),
                method="GET",
                url=url,
                headers={"Prefer": f"odata.maxpagesize={page_size}"},
            )
            for i, (_mb, url) in enumerate(chunk)
        ]
        return client.batch(reqs, what="Reading busy time ($batch of calendarView)")

    def finish(result: MailboxCalendar) -> None:
        if on_mailbox is not None:
            on_mailbox(result)

    def handle(mailbox: str, answer: BatchResponse) -> None:
        result = results[mailbox]
        what = f"Reading the calendar of {mailbox}"
        error = answer.error(what=what, permission=permission)
        if error is not None:
            result.error = error
            finish(result)
            return
        try:
            page = parse_page(answer.body, what)
            next_url = client.relative(page.next_link) if page.next_link else None
        except BadResponse as exc:
            result.error = exc
            finish(result)
            return
        result.pages += 1
        for raw in page.items:
            ident = raw.get("id") if isinstance(raw, dict) else None
            ident = ident if isinstance(ident, str) else None
            try:
                result.slots.append(parse(raw))  # type: ignore[arg-type]
            except BadResponse as exc:
                result.skipped.append(SkippedItem(ident, exc.message))
            except ITEM_ERRORS as exc:  # a parser's blind spot skips the item, not the run
                result.skipped.append(SkippedItem(ident, unreadable(what, exc)))
        if next_url:
            pending.append((mailbox, next_url))
        else:
            finish(result)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="m365-busy") as pool:
        inflight: dict[Future[list[BatchResponse]], list[tuple[str, str]]] = {}
        try:
            while pending or inflight:
                # Fill free workers with full batches; send a partial one only when
                # nothing else is in flight (more next pages may still arrive).
                while (
                    pending
                    and len(inflight) < workers
                    and (len(pending) >= batch_size or not inflight)
                ):
                    chunk = [pending.popleft() for _ in range(min(batch_size, len(pending)))]
                    inflight[pool.submit(run, chunk)] = chunk
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = inflight.pop(future)
                    try:
                        answers = future.result()
                    except (AuthError, PermissionMissing, GraphUnavailable):
                        # Sign-in broken, the $batch call itself refused, or the
                        # job's circuit breaker open: every other batch would fail
                        # the same way.
                        raise
                    except GraphError as exc:
                        # The whole $batch failed (after retries): those mailboxes only.
                        for mailbox, _url in chunk:
                            results[mailbox].error = exc
                            finish(results[mailbox])
                        continue
                    for (mailbox, _url), answer in zip(chunk, answers, strict=True):
                        handle(mailbox, answer)
        finally:
            for future in inflight:
                future.cancel()
    return results
