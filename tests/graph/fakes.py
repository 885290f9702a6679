"""Test doubles for the pure unit tests: a scripted HTTP session and a token provider.

Why this file exists: retry, batch and error logic must be tested without a network
and without time passing — the fake session answers from a script, and the retry
policy's ``sleep`` only records what it was asked to wait.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from m365_graph.core.retry import RetryPolicy


def response(
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    url: str = "https://graph.test/v1.0/x",
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    if raw is not None:
        resp._content = raw
    elif body is not None:
        resp._content = json.dumps(body).encode()
    else:
        resp._content = b""
    resp.headers = CaseInsensitiveDict(headers or {})
    resp.url = url
    return resp


def graph_error(status: int, code: str, message: str = "boom", **headers: str) -> requests.Response:
    return response(status, {"error": {"code": code, "message": message}}, headers=headers)


class Call:
    def __init__(self, method: str, url: str, kwargs: dict[str, Any]):
        self.method = method
        self.url = url
        self.params = kwargs.get("params")
        self.json = kwargs.get("json")
        self.headers = kwargs.get("headers") or {}
        self.timeout = kwargs.get("timeout")


class FakeSession:
    """Answers requests from ``handler(call) -> Response`` (or raises what it returns)."""

    def __init__(self, handler: Callable[[Call], Any] | list[Any]):
        if isinstance(handler, list):
            script = list(handler)

            def handler(call: Call) -> Any:
                return script.pop(0)

        self.handler = handler
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        call = Call(method, url, kwargs)
        with self._lock:
            self.calls.append(call)
        result = self.handler(call)
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        pass


class FakeTokens:
    kind = "application"

    def __init__(self, kind: str = "application"):
        self.kind = kind
        self.calls: list[bool] = []

    def get_token(self, force_refresh: bool = False) -> str:
        self.calls.append(force_refresh)
        return f"token-{len(self.calls)}"


def quick_policy(max_attempts: int = 4, **kwargs: Any) -> tuple[RetryPolicy, list[float]]:
    """A retry policy that never sleeps; the list receives each requested wait."""
    waits: list[float] = []
    policy = RetryPolicy(
        max_attempts=max_attempts, sleep=waits.append, rng=random.Random(7), **kwargs
    )
    return policy, waits
