"""A no-change personal sync costs exactly one HTTP request (one delta request).

msal builds its client per run and, without a shared ``http_cache``, fetches the
identity platform's OpenID configuration each time — one extra round trip per
sync. ``m365_graph.identity.auth.HTTP_CACHE`` keeps it per process; the sandbox's request
log (identity platform and Graph alike) counts what a run sends.
"""

from __future__ import annotations

from datetime import datetime, timezone

from m365_graph.core.errors import GraphError
from m365_graph.identity.auth import forget_apps
from m365_graph.identity.clients import GraphClient
from m365_graph.resources.calendar import calendar_view_delta
from m365_graph.sync.personal import pull_window, refresh_scopes

ADELE = "adele.vance@contoso.onmicrosoft.com"


def _run(config, account, policy, cache, delta_link=None):
    """One sync run as the addon makes it: a new client from the stored cache."""
    changes = []
    client = GraphClient.for_account(
        config,
        cache,
        home_account_id=account.home_account_id,
        scopes=refresh_scopes(account.granted_scopes),
        on_cache_change=changes.append,
        retry=policy,
    )
    start, end = pull_window(datetime.now(timezone.utc), 30, 365)
    with client:
        result = calendar_view_delta(client, "me", start, end, delta_link=delta_link)
    return result, (changes[-1] if changes else cache)


def test_no_change_sync_is_one_request(sb, config, policy, connect_account):
    sb.state.signed_in_user = ADELE
    account = connect_account()
    first, cache = _run(config, account, policy, account.cache_blob)
    assert first.complete

    sb.log.clear()
    again, cache = _run(config, account, policy, cache, first.delta_link)
    assert again.complete and not again.items
    paths = [r.path for r in sb.log]
    assert len(paths) == 1, paths
    assert "calendarView/delta" in paths[0]

    # Without the per-process cache, the same run costs the OpenID configuration too.
    forget_apps()
    sb.log.clear()
    _run(config, account, policy, cache, again.delta_link)
    paths = [r.path for r in sb.log]
    assert len(paths) == 2 and any("openid-configuration" in p for p in paths), paths


def test_app_tokens_are_kept_per_process(sb, config, policy):
    """Busy time, contacts and activity export: the second job asks for no token."""
    forget_apps()
    for _ in range(2):
        with GraphClient.for_app(config, retry=policy) as client:
            client.get_json("/users", params={"$top": "1"})
    token_requests = [r for r in sb.log if r.path.endswith("/token")]
    discovery = [r for r in sb.log if "openid-configuration" in r.path]
    assert len(token_requests) == 1 and len(discovery) == 1


def test_a_refusal_drops_the_kept_token_so_a_new_consent_shows(sb, config, policy):
    """Roles are fixed in a token: after a 403 the next job signs in again, once."""
    forget_apps()
    sb.state.set_app_roles(["Calendars.ReadWrite"])
    with GraphClient.for_app(config, retry=policy) as client:
        try:
            client.get_json("/users", params={"$top": "1"}, permission="User.Read.All")
        except GraphError as exc:
            assert exc.status == 403
        else:
            raise AssertionError("the app lacks User.Read.All")
    sb.state.set_app_roles(["Calendars.ReadWrite", "User.Read.All"])  # admin consents
    with GraphClient.for_app(config, retry=policy) as client:
        client.get_json("/users", params={"$top": "1"})
    assert len([r for r in sb.log if r.path.endswith("/token")]) == 2
