"""The pooled HTTPS session every Graph and identity-platform call goes through.

Why this file exists: two defaults of ``requests`` are wrong for us.

* ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` silently override ``Session.verify``:
  ``Session.request`` passes ``verify=None`` to ``merge_environment_settings``,
  which replaces it with the environment's bundle before the session's value is
  even looked at. A tenant configured with its own CA bundle (the sandbox, a TLS
  inspecting proxy) must win, so :class:`PinnedSession` re-applies it after the
  merge. msal is given the same session (``http_client=``), so token requests obey
  it too.
* ``requests`` has no session-wide time-out; a hung socket would block a cron
  worker forever. :class:`PinnedSession` applies a default ``(connect, read)``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

__all__ = ["DEFAULT_TIMEOUT", "PinnedSession", "host_of", "normalize_timeout"]

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)


def normalize_timeout(timeout: float | tuple[float, float] | None) -> tuple[float, float]:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, (int, float)):
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


class PinnedSession(requests.Session):
    """A ``requests.Session`` whose CA bundle and default time-out cannot be overridden
    by the environment.

    ``ca_bundle``: path of a PEM bundle (or ``None`` for requests' usual behaviour).
    ``pool_size``: connections kept per host — at least the number of threads that
    share the session.
    """

    def __init__(
        self,
        ca_bundle: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        pool_size: int = 16,
    ):
        super().__init__()
        self.ca_bundle = ca_bundle
        self.default_timeout = normalize_timeout(timeout)
        if ca_bundle:
            self.verify = ca_bundle
        # No transport-level retries: the Graph client decides what may be resent
        # (a POST must not be replayed blindly).
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.ca_bundle:
            settings["verify"] = self.ca_bundle
        return settings

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)
