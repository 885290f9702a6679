"""Collections spread over pages: ``value`` plus ``@odata.nextLink``.

Why this file exists: every Graph collection (users, calendarView, delta) is paged
the same way, and a page can be malformed in the same ways (no ``value`` list, a
link that is not a string). :func:`parse_page` checks that once; :class:`Paging`
gives :class:`~m365_graph.core.client.GraphClient` its collection methods
(``get_page``, ``iter_pages`` following ``@odata.nextLink`` until Graph stops giving
one, ``iter_items``). It is a base class of the client, so this module does not
import the client: ``self`` is the client. The page size is asked
for with ``Prefer: odata.maxpagesize=N`` on every request — Graph treats it as a
hint and may return fewer items per page, so nothing here assumes full pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .errors import BadResponse
from .types import Page

__all__ = ["Paging", "parse_page"]


def _link(body: Mapping[str, Any], name: str, what: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadResponse(f"{what}: '{name}' is not a URL ({value!r})", field=name)
    return value


def parse_page(body: Any, what: str = "Microsoft Graph") -> Page:
    """Check and split one page of a collection."""
    if not isinstance(body, dict):
        raise BadResponse(
            f"{what}: Graph returned {type(body).__name__} instead of a collection page"
        )
    items = body.get("value")
    if not isinstance(items, list):
        raise BadResponse(
            f"{what}: the page has no 'value' list (got {type(items).__name__})", field="value"
        )
    return Page(
        items=items,
        next_link=_link(body, "@odata.nextLink", what),
        delta_link=_link(body, "@odata.deltaLink", what),
    )


class Paging:
    """Collection methods of :class:`~m365_graph.core.client.GraphClient` (a base class).

    They only use the client's ``request``; nothing here holds state.
    """

    def get_page(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        what: str | None = None,
        permission: str | None = None,
    ) -> Page:
        """One page of a collection (``value`` + links)."""
        response = self.request(
            "GET", url, params=params, page_size=page_size, what=what, permission=permission
        )
        return parse_page(response.body, what or f"Microsoft Graph GET {url}")

    def iter_pages(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        what: str | None = None,
        permission: str | None = None,
    ) -> Iterator[Page]:
        """Yield pages from ``url`` (with ``params``) then from each ``@odata.nextLink``.

        The next link already carries every query parameter (and a skip token), so
        ``params`` are only sent with the first request.
        """
        page = self.get_page(
            url, params=params, page_size=page_size, what=what, permission=permission
        )
        yield page
        seen = {url}
        while page.next_link:
            if page.next_link in seen:  # a server bug would otherwise loop forever
                raise BadResponse(
                    f"{what or 'Microsoft Graph'}: Graph returned the same next link twice",
                    field="@odata.nextLink",
                    link_refused=True,
                )
            seen.add(page.next_link)
            page = self.get_page(
                page.next_link, page_size=page_size, what=what, permission=permission
            )
            yield page

    def iter_items(self, url: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Raw items of every page of a collection."""
        for page in self.iter_pages(url, **kwargs):
            yield from page.items
