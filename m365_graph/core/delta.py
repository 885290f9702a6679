"""Delta rounds: read changes since a stored link, hand back the new link.

Why this file exists: users (contact sync) and calendarView (personal sync) use the
same delta protocol, and its rules are easy to get wrong:

* a round is the first request (or the stored ``@odata.deltaLink``) followed by
  ``@odata.nextLink`` pages until a page carries a new ``@odata.deltaLink`` —
  only then may that link be stored;
* removed items come as ``{"id": …, "@removed": {"reason": "changed"|"deleted"}}``;
* the same item may appear several times in one round (Graph documents it): later
  occurrences win, partial objects are merged, so each id is reported once;
* an expired link answers 410 (or 400) ``syncStateNotFound``/``fullSyncRequired``:
  a new round must start from scratch, and it replays items already known;
* if the round breaks in the middle, the last ``@odata.nextLink`` is where to
  resume later; we return what was read with ``complete=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from .errors import BadResponse, SyncStateExpired, Throttled, Transient
from .types import ITEM_ERRORS, DeltaResult, Page, Removed, SkippedItem, unreadable

__all__ = ["Delta", "DeltaAccumulator"]

T = TypeVar("T")

#: Pages one round may have; far above any real mailbox or directory (Graph pages
#: hold up to 999 users or hundreds of events).
MAX_PAGES = 100_000


class DeltaAccumulator:
    """Merges the items of one round's pages: one entry per id, latest state wins."""

    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, dict[str, Any] | Removed] = {}
        self.skipped: list[SkippedItem] = []

    def add_page(self, page: Page) -> None:
        for raw in page.items:
            if not isinstance(raw, dict):
                self.skipped.append(SkippedItem(None, f"{self.what}: item is not an object"))
                continue
            ident = raw.get("id")
            if not isinstance(ident, str) or not ident:
                self.skipped.append(SkippedItem(None, f"{self.what}: item without an 'id'"))
                continue
            removed = raw.get("@removed")
            if removed is not None:
                reason = removed.get("reason") if isinstance(removed, dict) else None
                self._entries[ident] = Removed(ident, str(reason or "deleted"))
                continue
            previous = self._entries.get(ident)
            if isinstance(previous, dict):
                merged = dict(previous)
                merged.update(raw)
                self._entries[ident] = merged
            else:
                self._entries[ident] = dict(raw)

    def result(self, parse: Callable[[dict[str, Any]], T]) -> DeltaResult[T]:
        out: DeltaResult[T] = DeltaResult(skipped=list(self.skipped))
        for ident, entry in self._entries.items():
            if isinstance(entry, Removed):
                out.removed.append(entry)
                continue
            try:
                out.items.append(parse(entry))
            except BadResponse as exc:
                out.skipped.append(SkippedItem(ident, exc.message))
            except ITEM_ERRORS as exc:  # a parser's blind spot must not end the round
                out.skipped.append(SkippedItem(ident, unreadable(self.what, exc)))
        return out


class Delta:
    """The delta method of :class:`~m365_graph.core.client.GraphClient` (a base class).

    ``self`` is the client: its ``get_page`` and ``absolute`` are used.
    """

    def delta_round(
        self,
        url: str,
        *,
        parse: Callable[[dict[str, Any]], T],
        params: Mapping[str, Any] | None = None,
        delta_link: str | None = None,
        resume_link: str | None = None,
        page_size: int | None = None,
        what: str = "Microsoft Graph delta",
        permission: str | None = None,
        restart_on_expired: bool = True,
        on_page: Callable[[Page], None] | None = None,
    ) -> DeltaResult[T]:
        """One delta round from ``url`` (first call) or a stored link, merged.

        Start from ``resume_link`` (an interrupted round's ``next_link``), else from
        ``delta_link`` (the previous round's), else from ``url`` + ``params`` (a new
        baseline). With ``restart_on_expired`` an expired link starts a new baseline at
        once and the result says ``restarted=True``; otherwise
        :class:`SyncStateExpired` is raised.
        """
        start = resume_link or delta_link
        restarted = False
        while True:
            acc = DeltaAccumulator(what)
            pages = 0
            last_next: str | None = start
            try:
                if start:
                    iterator = self._delta_pages(
                        start,
                        params=None,
                        page_size=page_size,
                        what=what,
                        permission=permission,
                    )
                else:
                    iterator = self._delta_pages(
                        url,
                        params=params,
                        page_size=page_size,
                        what=what,
                        permission=permission,
                    )
                for page in iterator:
                    pages += 1
                    acc.add_page(page)
                    if on_page is not None:
                        on_page(page)
                    if page.delta_link:
                        result = acc.result(parse)
                        result.delta_link = page.delta_link
                        result.pages = pages
                        result.restarted = restarted
                        return result
                    if not page.next_link:
                        raise BadResponse(
                            f"{what}: the last page has neither a next link nor a delta link",
                            field="@odata.deltaLink",
                        )
                    self.absolute(page.next_link)  # refused links are never a resume point
                    last_next = page.next_link
            except SyncStateExpired:
                if not restart_on_expired or restarted or not start:
                    raise
                restarted = True
                start = None
                continue
            except (Transient, Throttled, BadResponse) as exc:
                # An interruption: hand back what was read and where to resume. Sign-in and
                # permission errors are not interruptions and propagate.
                if pages == 0 or last_next is None:
                    raise
                result = acc.result(parse)
                # A refused or repeating link is not a place to resume: the next round
                # starts again from the stored delta link (items come again, harmlessly).
                refused = isinstance(exc, BadResponse) and exc.link_refused
                result.next_link = None if refused else last_next
                result.pages = pages
                result.restarted = restarted
                result.error = exc
                return result

    def _delta_pages(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        page_size: int | None,
        what: str,
        permission: str | None,
    ) -> Iterator[Page]:
        page = self.get_page(
            url, params=params, page_size=page_size, what=what, permission=permission
        )
        yield page
        seen = {url}
        while page.next_link and not page.delta_link:
            if page.next_link in seen or len(seen) > MAX_PAGES:
                raise BadResponse(
                    f"{what}: Graph returned a next link it had already given in this round "
                    f"(or more than {MAX_PAGES} pages); stopped to avoid reading forever",
                    field="@odata.nextLink",
                    link_refused=True,
                )
            seen.add(page.next_link)
            page = self.get_page(
                page.next_link, page_size=page_size, what=what, permission=permission
            )
            yield page
