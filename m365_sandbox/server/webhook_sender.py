"""The HTTP half of change notifications: the sandbox POSTs to the subscriber.

Why this file exists: the tenant layer decides *what* Graph sends and when
(``tenant/notification_delivery.py``) but knows nothing of HTTP; this is the
sender the server hands it. Like Graph it POSTs the validation handshake with
``validationToken`` in the query string and an empty ``text/plain`` body, and
notifications as ``application/json``; it follows no redirect (Graph does not).
One ``requests`` session per thread (the delivery thread and the request threads
that run a handshake).
"""

from __future__ import annotations

import threading

import requests

_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["User-Agent"] = "m365_sandbox change notifications (like Microsoft Graph)"
    return session


def post(url: str, body: bytes | None, params: dict, timeout: float) -> tuple[int, str]:
    """POST ``body`` (JSON) or the handshake (``body`` None) to ``url``: (status, text)."""
    headers = {"Content-Type": "application/json" if body is not None else "text/plain"}
    answer = _session().post(
        url,
        data=body if body is not None else b"",
        params=params or None,
        headers=headers,
        timeout=timeout,
        allow_redirects=False,
    )
    return answer.status_code, answer.text
