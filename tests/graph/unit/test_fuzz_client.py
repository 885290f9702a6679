"""Fuzz: the client, paging, delta rounds, ``$batch``, busy time and sign-in on hostile answers.

A fake transport answers with mutated documented payloads — damaged bytes, odd
statuses and ``Retry-After`` values, links to other hosts or repeating forever,
token answers in HTML or with an ``expires_in`` that is no number — and the rule
of the quality bars is checked end to end: only ``m365_graph``'s own errors leave, a
bad item is skipped and counted, a refused link is never a resume point, and no
wait goes past the job's budget. Nothing sleeps.
"""

from __future__ import annotations

import base64
import json
import random
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from m365_graph.core.config import TenantConfig
from m365_graph.core.errors import BadResponse, GraphError, Transient
from m365_graph.core.retry import Budget, RetryPolicy
from m365_graph.core.types import BatchRequest, GraphEvent
from m365_graph.identity.auth import AppTokenProvider, DelegatedTokenProvider, forget_apps
from m365_graph.identity.clients import GraphClient
from m365_graph.resources.busytime import read_busy_times

from .. import fuzz_seeds as seeds
from ..fakes import FakeSession, FakeTokens, response
from ..fuzz import FUZZ, NASTY_TEXT, mutated, only_graph_errors

BASE = "https://graph.microsoft.com/v1.0"
STATUS = st.sampled_from([200, 200, 200, 200, 400, 403, 404, 410, 424, 429, 500, 502, 503, 504])
DAMAGE = st.sampled_from(["none", "none", "none", "nul", "surrogate", "deep", "truncate", "html"])


def _damage(raw: bytes, how: str) -> bytes:
    if how == "nul":
        return raw.replace(b'"', b'"\\u0000', 2)
    if how == "surrogate":
        return raw.replace(b'"', b'"\\ud800', 2)
    if how == "deep":
        return b"[" * 3000 + raw + b"]" * 3000
    if how == "truncate":
        return raw[: len(raw) // 2]
    if how == "html":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    return raw


ANSWER = st.tuples(
    STATUS,
    DAMAGE,
    st.dictionaries(
        st.sampled_from(["Retry-After", "request-id", "Content-Type"]),
        st.sampled_from([*NASTY_TEXT, "0", "1", "5", "3600"]),
        max_size=2,
    ),
)


def _client(answers, bodies, budget=None):
    """A client whose fake session answers from ``answers`` (status, damage, headers)."""
    answers, bodies = list(answers), list(bodies)
    waits = []

    def handler(call):
        if not answers:
            return response(503, {"error": {"code": "ServiceUnavailable", "message": "end"}})
        status, damage, headers = answers.pop(0)
        body = bodies.pop(0) if bodies else {"value": []}
        return response(status, raw=_damage(json.dumps(body).encode(), damage), headers=headers)

    policy = RetryPolicy(max_attempts=4, sleep=waits.append, rng=random.Random(3))
    client = GraphClient(
        FakeTokens(),
        BASE,
        session=FakeSession(handler),
        retry=policy,
        budget=budget or Budget(max_wait=60, max_failures=6),
    )
    return client, waits


PAGE = st.sampled_from(
    [seeds.EVENT_DELTA_PAGE, seeds.EVENT_DELTA_LAST_PAGE, seeds.USER_DELTA_PAGE]
).flatmap(lambda s: mutated(s, max_mutations=5))


LINKS = {
    "foreign": "https://evil.example/v1.0/me/calendarView/delta?$skiptoken=x",
    "repeat": f"{BASE}/me/calendarView/delta?$skiptoken=again",
    "bad": "https://[bad/v1.0/me/calendarView/delta",
    "spaced": f"{BASE}/me/calendarView/delta?$skiptoken=a b",
    "next": f"{BASE}/me/calendarView/delta?$skiptoken=",
}
LINK = st.sampled_from([None, None, "keep", *LINKS])


def _relink(bodies, links):
    """Point the pages' next links at other hosts, repeats, broken URLs — or fine ones."""
    out = []
    for n, (body, link) in enumerate(zip(bodies, links, strict=False)):
        page = body
        if isinstance(body, dict) and link not in (None, "keep"):
            page = dict(body)
            page.pop("@odata.deltaLink", None)
            page["@odata.nextLink"] = LINKS[link] + (str(n) if link == "next" else "")
        out.append(page)
    return out + list(bodies[len(out) :])


@FUZZ
@given(
    st.lists(ANSWER, min_size=1, max_size=8),
    st.lists(PAGE, min_size=1, max_size=8),
    st.lists(LINK, max_size=8),
)
def test_fuzz_delta_round_never_stores_a_refused_link(answers, bodies, links):
    client, waits = _client(answers, _relink(bodies, links))
    result = only_graph_errors(
        client.delta_round, "/me/calendarView/delta", parse=GraphEvent.from_graph, what="fuzz"
    )
    assert sum(waits) <= 60  # the budget holds
    if isinstance(result, GraphError):
        return
    if result.next_link is not None:
        client.absolute(result.next_link)  # raises if the link is not Graph's
        assert result.error is not None
    for item in result.skipped:
        assert item.reason


@FUZZ
@given(st.lists(ANSWER, min_size=1, max_size=6), st.lists(PAGE, min_size=1, max_size=6))
def test_fuzz_paging(answers, bodies):
    client, waits = _client(answers, bodies)
    items = only_graph_errors(lambda: list(client.iter_items("/users", what="fuzz")))
    assert sum(waits) <= 60
    assert isinstance(items, (list, GraphError))


BATCH_BODY = mutated(
    {
        "responses": [
            {"id": str(n), "status": 200, "headers": {}, "body": {"value": [seeds.EVENT_FULL]}}
            for n in range(1, 4)
        ]
    },
    max_mutations=6,
) | mutated(seeds.BATCH_RESPONSE, max_mutations=4)


@FUZZ
@given(st.lists(ANSWER, min_size=1, max_size=6), st.lists(BATCH_BODY, min_size=1, max_size=6))
def test_fuzz_batch_and_busy_time(answers, bodies):
    """Every mailbox ends read or with its error; bad events are skipped and counted."""
    client, waits = _client(answers, bodies)
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    results = only_graph_errors(
        read_busy_times, client, ["a@x", "b@x", "c@x"], start, start + timedelta(days=7)
    )
    assert sum(waits) <= 60
    if isinstance(results, GraphError):
        return
    assert set(results) == {"a@x", "b@x", "c@x"}
    for calendar in results.values():
        assert calendar.ok or isinstance(calendar.error, GraphError)
        for item in calendar.skipped:
            assert item.reason


@FUZZ
@given(st.lists(ANSWER, min_size=1, max_size=6), st.lists(BATCH_BODY, min_size=1, max_size=6))
def test_fuzz_batch_with_dependencies(answers, bodies):
    client, waits = _client(answers, bodies)
    requests = [
        BatchRequest("1", "POST", "/me/events", body={}, retry_safe=True),
        BatchRequest("2", "GET", "/me/events/x", depends_on=("1",)),
        BatchRequest("3", "PATCH", "/me/events/y", body={}, depends_on=("2",)),
    ]
    answers_ = only_graph_errors(client.batch, requests)
    assert sum(waits) <= 60
    if isinstance(answers_, GraphError):
        return
    assert [a.id for a in answers_] == ["1", "2", "3"]
    for answer in answers_:
        error = answer.error("fuzz")
        assert error is None or str(error)


# ----------------------------------------------------------------- identity platform

AUTHORITY = "https://login.fuzz.test"
TENANT = "11111111-2222-3333-4444-555555555555"
OPENID = {
    "token_endpoint": f"{AUTHORITY}/{TENANT}/oauth2/v2.0/token",
    "authorization_endpoint": f"{AUTHORITY}/{TENANT}/oauth2/v2.0/authorize",
    "issuer": f"{AUTHORITY}/{TENANT}/v2.0",
}


def _jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


TOKEN_ANSWER = st.tuples(
    st.sampled_from([200, 200, 200, 400, 401, 429, 500, 502, 503]),
    st.sampled_from(["none", "none", "html", "truncate", "deep", "nul"]),
    st.one_of(
        mutated({**seeds.TOKEN_RESPONSE, "access_token": _jwt({"tid": TENANT})}, 3),
        mutated(seeds.TOKEN_ERROR, 3),
    ),
    st.sampled_from([{}, {"Retry-After": "1"}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}]),
)


def _identity_session(token_answers):
    # msal remembers error answers in the shared http cache (its own throttling):
    # every example starts without them.
    forget_apps()
    token_answers = list(token_answers)

    def handler(call):
        if call.method == "GET" and "openid-configuration" in call.url:
            return response(200, OPENID)
        if call.method == "POST" and call.url == OPENID["token_endpoint"]:
            if not token_answers:
                return response(503, raw=b"<html>down</html>")
            status, damage, body, headers = token_answers.pop(0)
            return response(status, raw=_damage(json.dumps(body).encode(), damage), headers=headers)
        return response(404, {"error": "not_found"})

    return FakeSession(handler)


def _config():
    return TenantConfig(TENANT, "client-id", "secret", AUTHORITY, BASE)


@FUZZ
@given(st.lists(TOKEN_ANSWER, min_size=1, max_size=5))
def test_fuzz_app_token(token_answers):
    """Any token-endpoint answer ends in a token or a taxonomy error, after bounded retries."""
    waits = []
    provider = AppTokenProvider(
        _config(),
        session=_identity_session(token_answers),
        keep=False,
        retry=RetryPolicy(max_attempts=4, sleep=waits.append, rng=random.Random(5)),
    )
    token = only_graph_errors(provider.get_token)
    assert sum(waits) <= 30
    assert isinstance(token, (str, GraphError))
    if isinstance(token, GraphError):
        assert not isinstance(token, BadResponse) or token.field


def _cache_blob():
    """A token cache holding one expired access token and a refresh token."""
    import msal

    cache = msal.SerializableTokenCache()
    home = f"oid.{TENANT}"
    cache.deserialize(
        json.dumps(
            {
                "Account": {
                    f"{home}-login.fuzz.test-{TENANT}": {
                        "home_account_id": home,
                        "environment": "login.fuzz.test",
                        "realm": TENANT,
                        "local_account_id": "oid",
                        "username": "adele@contoso.example",
                        "authority_type": "MSSTS",
                    }
                },
                "RefreshToken": {
                    f"{home}-login.fuzz.test-refreshtoken-client-id--": {
                        "credential_type": "RefreshToken",
                        "secret": "rt-1",
                        "home_account_id": home,
                        "environment": "login.fuzz.test",
                        "client_id": "client-id",
                        "target": "",
                    }
                },
            }
        )
    )
    return cache.serialize(), home


@FUZZ
@given(st.lists(TOKEN_ANSWER, min_size=1, max_size=4), st.sampled_from(["ok", "junk", "list"]))
def test_fuzz_delegated_refresh(token_answers, blob_kind):
    blob, home = _cache_blob()
    if blob_kind == "junk":
        blob = "{not json"
    elif blob_kind == "list":
        blob = "[1, 2]"
    waits, changes = [], []

    def build():
        return DelegatedTokenProvider(
            _config(),
            blob,
            home_account_id=home,
            on_cache_change=changes.append,
            session=_identity_session(token_answers),
            retry=RetryPolicy(max_attempts=4, sleep=waits.append, rng=random.Random(5)),
        )

    provider = only_graph_errors(build)
    if isinstance(provider, GraphError):
        return
    token = only_graph_errors(provider.get_token)
    assert sum(waits) <= 30
    assert isinstance(token, (str, GraphError))


def test_token_endpoint_outage_is_retried_then_transient():
    """Not fuzz: the documented case — a proxy's 503 HTML page, three times, then a token."""
    answers = [(503, "html", {}, {})] * 3 + [
        (200, "none", {**seeds.TOKEN_RESPONSE, "access_token": _jwt({"tid": TENANT})}, {})
    ]
    waits = []
    session = _identity_session(answers)
    provider = AppTokenProvider(
        _config(),
        session=session,
        keep=False,
        retry=RetryPolicy(max_attempts=4, sleep=waits.append, rng=random.Random(5)),
    )
    assert provider.get_token().count(".") == 2
    assert len(waits) == 3
    posts = [c for c in session.calls if c.method == "POST"]
    assert len(posts) == 4

    session = _identity_session([(502, "html", {}, {})] * 4)
    provider = AppTokenProvider(
        _config(),
        session=session,
        keep=False,
        retry=RetryPolicy(max_attempts=4, sleep=lambda s: None, rng=random.Random(5)),
    )
    try:
        provider.get_token()
    except Transient as exc:
        assert "identity platform" in str(exc) and "after 4 attempts" in str(exc)
        assert "not a JSON answer" in str(exc)
    else:
        raise AssertionError("a lasting outage must raise Transient")


def test_odd_expires_in_is_a_transient_in_words():
    body = {**seeds.TOKEN_RESPONSE, "expires_in": "soon", "access_token": _jwt({"tid": TENANT})}
    provider = AppTokenProvider(
        _config(),
        session=_identity_session([(200, "none", body, {})]),
        keep=False,
        retry=RetryPolicy(max_attempts=1, sleep=lambda s: None),
    )
    try:
        provider.get_token()
    except Transient as exc:
        assert "could not be read" in str(exc)
    else:
        raise AssertionError("expires_in 'soon' must not pass silently")
