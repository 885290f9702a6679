"""``GraphClient``: every HTTP request to Microsoft Graph goes through here.

Why this file exists: the rules of docs/architecture.md ("Microsoft Graph rules the engine must
respect") are enforced in one place — a single pooled session with time-outs and a
pinned CA bundle, the ``Prefer`` headers, bounded retries that honour
``Retry-After``, the per-mailbox concurrency cap, error mapping, and thread-safe
counters for the ``m365.sync.run`` row. Paging, delta rounds and ``$batch`` are
methods of the client too (``get_page``/``iter_pages``/``iter_items``,
``delta_round``, ``batch``), written in :mod:`.paging`, :mod:`.delta` and
:mod:`.batch` as its base classes, so none of those modules imports this one. The
resource modules (:mod:`m365_graph.resources`) build URLs and parse results; they
never touch HTTP. Building a client from a :class:`~m365_graph.core.config.TenantConfig`
and its tokens is :mod:`m365_graph.identity`'s (``GraphClient.for_app``/``for_account``
of :mod:`m365_graph.identity.clients`).

Graph quirks handled here:

* ``Prefer: IdType="ImmutableId"`` on *every* request, so event ids do not change
  when an item moves between folders; ``Prefer: outlook.timezone="UTC"`` on reads so
  ``{dateTime, timeZone}`` pairs come back in UTC. Several preferences go in one
  comma-separated ``Prefer`` header.
* ``@odata.nextLink`` is an absolute URL; it is only followed on the Graph host the
  client was configured with — the bearer token is never sent anywhere else.
* A 401 can simply mean the cached token just expired: the token is refreshed once
  before the 401 is reported.
* 429/503 carry ``Retry-After``; a POST is resent only if it is marked
  ``retry_safe`` (e.g. an event creation carrying a ``transactionId``) or if Graph
  certainly did not apply it (429/503, or the connection could not be opened).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from .batch import Batching
from .config import GRAPH_PUBLIC, normalize_base_url
from .counters import Counters
from .delta import Delta
from .errors import BadResponse, error_from_response, transient_from_exception
from .http import DEFAULT_TIMEOUT, PinnedSession, normalize_timeout
from .mailbox import MailboxLimiter, mailbox_of
from .paging import Paging
from .retry import NOT_APPLIED_STATUSES, RETRYABLE_STATUSES, Budget, RetryPolicy
from .text import decode_json

__all__ = ["GraphClient", "GraphResponse", "TokenProvider"]

_AUTO = object()
# Whitespace, control characters and surrogates never belong in a URL Graph gives.
_UNSAFE_URL = re.compile("[\x00-\x20\x7f\ud800-\udfff]")
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class GraphResponse:
    """A successful Graph answer: status, headers and the decoded JSON body (or ``None``)."""

    status: int
    headers: Mapping[str, str]
    body: Any
    url: str

    def json_object(self, what: str = "Microsoft Graph") -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise BadResponse(
                f"{what}: Graph returned {type(self.body).__name__} instead of a JSON object",
                status=self.status,
            )
        return self.body


def _surely_not_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached Graph (connection never opened)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        text = repr(exc)
        return "NewConnectionError" in text or "Failed to establish" in text
    return False


class TokenProvider(Protocol):
    """What :class:`GraphClient` needs from a token source (``identity`` implements it)."""

    kind: str  # "application" or "delegated"

    def get_token(self, force_refresh: bool = False) -> str: ...


class GraphClient(Paging, Delta, Batching):
    """A Microsoft Graph client for one token (one app, or one connected account).

    Thread-safe: share one instance between the threads of a job.

    ``token_provider``: :class:`~m365_graph.identity.auth.AppTokenProvider` or
    :class:`~m365_graph.identity.auth.DelegatedTokenProvider` (anything with
    ``get_token(force_refresh=False)``). ``graph_url``: version root, e.g.
    ``https://graph.microsoft.com/v1.0``. ``ca_bundle`` pins the CA (wins over
    ``REQUESTS_CA_BUNDLE``). ``timeout``: ``(connect, read)`` seconds. ``retry``:
    the :class:`~m365_graph.core.retry.RetryPolicy` (inject ``sleep``/``clock`` in tests).
    ``mailbox_limit``: requests in flight per mailbox across threads (Outlook's 4).
    ``budget``: the job's circuit breaker (:class:`~m365_graph.core.retry.Budget`): total
    seconds of waiting and failed requests in a row before the client gives up with
    :class:`~m365_graph.core.errors.GraphUnavailable`; one per unit of work.
    """

    def __init__(
        self,
        token_provider: TokenProvider,
        graph_url: str = GRAPH_PUBLIC,
        *,
        ca_bundle: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        mailbox_limit: int = 4,
        counters: Counters | None = None,
        pool_size: int = 16,
        user_agent: str = "m365_sync (Odoo)",
        budget: Budget | None = None,
    ):
        self.token_provider = token_provider
        self.base_url = normalize_base_url(graph_url)
        base = urlsplit(self.base_url)
        self._origin = (base.scheme.lower(), base.netloc.lower())
        self.host = base.netloc
        self.timeout = normalize_timeout(timeout)
        self.session = session or PinnedSession(ca_bundle, self.timeout, pool_size=pool_size)
        self._own_session = session is None
        self.retry = retry or RetryPolicy()
        self.budget = budget if budget is not None else Budget()
        self.limiter = MailboxLimiter(mailbox_limit)
        self.counters = counters or Counters()
        self.user_agent = user_agent
        self._token_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ URLs

    @property
    def kind(self) -> str:
        """``"application"`` or ``"delegated"``: what kind of permissions the token holds."""
        return getattr(self.token_provider, "kind", "application")

    def absolute(self, url: str) -> str:
        """Absolute URL for a path (``/users``) or a link Graph returned.

        Links pointing to another host are refused: they would receive our token.
        """
        if not isinstance(url, str) or _UNSAFE_URL.search(url):
            raise BadResponse(
                f"Graph returned a link that is not a usable URL ({str(url)[:80]!r})",
                field="@odata.nextLink",
                link_refused=True,
            )
        if url.startswith(("https://", "http://")):
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018  # raises ValueError for a port out of range
            except ValueError as exc:
                raise BadResponse(
                    f"Graph returned a link that is not a usable URL ({url[:80]!r})",
                    field="@odata.nextLink",
                    link_refused=True,
                ) from exc
            if (parts.scheme.lower(), parts.netloc.lower()) != self._origin:
                raise BadResponse(
                    f"Graph returned a link to another host ({parts.netloc[:100]}); "
                    "not following it",
                    field="@odata.nextLink",
                    link_refused=True,
                )
            return url
        return f"{self.base_url}/{url.lstrip('/')}"

    def relative(self, url: str) -> str:
        """A link relative to the version root, as ``$batch`` sub-requests need it."""
        absolute = self.absolute(url)
        if not absolute.startswith(self.base_url + "/"):
            raise BadResponse(
                f"Graph returned a link outside {self.base_url}: {absolute[:120]}",
                field="@odata.nextLink",
                link_refused=True,
            )
        return absolute[len(self.base_url) :]

    @staticmethod
    def prefer(method: str, page_size: int | None = None, extra: str | None = None) -> str:
        """The ``Prefer`` header value for a request (see the module docstring)."""
        values = ['IdType="ImmutableId"']
        if method.upper() == "GET":
            values.append('outlook.timezone="UTC"')
        if page_size:
            values.append(f"odata.maxpagesize={int(page_size)}")
        if extra:
            values.append(extra)
        return ", ".join(values)

    # ------------------------------------------------------------------ requests

    def _token(self, force_refresh: bool = False) -> str:
        return self.token_provider.get_token(force_refresh=force_refresh)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
        permission: str | None = None,
        retry_safe: bool | None = None,
        page_size: int | None = None,
        mailboxes: Sequence[str | None] | object = _AUTO,
        batch_items: int = 0,
    ) -> GraphResponse:
        """Send one request with retries; return the decoded answer or raise the taxonomy.

        ``what`` is a plain-words description used in error messages; ``permission``
        the Graph permission the request needs (named if Graph answers 403).
        ``retry_safe``: may the request be sent again if Graph may have applied it
        (defaults to true for GET/PUT/DELETE). ``mailboxes``: which mailbox slots to
        hold (defaults to the one in the URL).
        """
        method = method.upper()
        target = self.absolute(url)
        safe = retry_safe if retry_safe is not None else method in _IDEMPOTENT
        what = what or f"Microsoft Graph {method} {urlsplit(target).path}"
        boxes = [mailbox_of(target)] if mailboxes is _AUTO else list(mailboxes)  # type: ignore[arg-type]
        policy = self.retry
        extra = {k: v for k, v in (headers or {}).items() if k.lower() != "prefer"}
        caller_prefer = next((v for k, v in (headers or {}).items() if k.lower() == "prefer"), None)
        prefer = self.prefer(method, page_size, caller_prefer)
        attempt = 0
        refreshed = False
        force_refresh = False
        budget = self.budget
        while True:
            attempt += 1
            if budget.is_open:
                raise budget.error(what, self.host)
            token = self._token(force_refresh)
            force_refresh = False
            request_headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Prefer": prefer,
                "client-request-id": str(uuid.uuid4()),
                "User-Agent": self.user_agent,
                **extra,
            }
            started = policy.clock()
            try:
                with self.limiter.hold(boxes):
                    self.counters.add(requests=1, batch_items=batch_items)
                    resp = self.session.request(
                        method,
                        target,
                        params=params,
                        json=json,
                        headers=request_headers,
                        timeout=self.timeout,
                        allow_redirects=False,
                    )
                    status = resp.status_code
                    content = resp.content  # read inside the slot: the body is part of it
            except requests.exceptions.SSLError as exc:
                self.counters.add(failed=1)
                raise transient_from_exception(
                    exc, host=self.host, timeout=self.timeout, what=what
                ) from exc
            except ValueError as exc:
                # http.client refuses a URL or header it cannot send (InvalidURL).
                self.counters.add(failed=1)
                raise BadResponse(
                    f"{what}: the request could not be sent ({str(exc)[:120]})"
                ) from exc
            except requests.RequestException as exc:
                not_sent = _surely_not_sent(exc)
                budget.failed(policy.clock() - started)
                if not (safe or not_sent) or policy.should_give_up(attempt, None):
                    self.counters.add(failed=1)
                    raise transient_from_exception(
                        exc,
                        host=self.host,
                        timeout=self.timeout,
                        what=what,
                        attempts=attempt,
                        maybe_applied=not (safe or not_sent),
                    ) from exc
                self._wait(what, policy.backoff(attempt), type(exc).__name__)
                continue

            if status == 401 and not refreshed:
                # The cached token may have expired a moment ago: refresh once.
                refreshed = True
                force_refresh = True
                attempt -= 1
                self.counters.add(retried=1)
                continue
            if status in RETRYABLE_STATUSES:
                budget.failed(policy.clock() - started)
            else:
                budget.succeeded()
            if status in RETRYABLE_STATUSES and (safe or status in NOT_APPLIED_STATUSES):
                retry_after = policy.retry_after(resp.headers)
                if status in NOT_APPLIED_STATUSES:
                    self.counters.add(throttled=1)
                if policy.should_give_up(attempt, retry_after):
                    self.counters.add(failed=1)
                    raise error_from_response(
                        status,
                        content,
                        resp.headers,
                        what=what,
                        permission=permission,
                        retry_after=retry_after,
                        attempts=attempt,
                        host=self.host,
                    )
                self._wait(what, policy.delay(attempt, retry_after), f"HTTP {status}")
                continue
            if status >= 400:
                self.counters.add(failed=1)
                if status == 403:
                    self.note_refused()
                raise error_from_response(
                    status,
                    content,
                    resp.headers,
                    what=what,
                    permission=permission,
                    retry_after=policy.retry_after(resp.headers),
                    attempts=attempt,
                    host=self.host,
                )
            return GraphResponse(status, resp.headers, self._decode(content, status, what), target)

    def note_refused(self) -> None:
        """A 403 (also inside ``$batch``): a kept app token may predate a new consent."""
        refused = getattr(self.token_provider, "token_refused", None)
        if refused is not None:
            refused()

    def _wait(self, what: str, seconds: float, last: str) -> None:
        """Sleep before a retry, unless the job's budget says Graph is unavailable."""
        if self.budget.is_open or not self.budget.allow_wait(seconds):
            self.counters.add(failed=1)
            raise self.budget.error(what, self.host, last)
        self.counters.add(retried=1)
        self.retry.sleep(seconds)

    @staticmethod
    def _decode(content: bytes, status: int, what: str) -> Any:
        if status == 204 or not content or not content.strip():
            return None
        try:
            return decode_json(content)
        except ValueError as exc:  # invalid JSON or UTF-8, or nested too deeply
            reason = "is nested too deeply" if "nested" in str(exc) else "is not valid JSON"
            raise BadResponse(
                f"{what}: Graph's answer {reason} ({content[:80]!r})", status=status
            ) from exc

    def get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        """GET returning a JSON object (``BadResponse`` if it is anything else)."""
        what = kwargs.get("what") or f"Microsoft Graph GET {url}"
        return self.request("GET", url, **kwargs).json_object(what)
