"""Access tokens for Graph, obtained and cached by msal.

Why this file exists: Graph calls need a bearer token, and the two kinds the addon
uses live differently.

* :class:`AppTokenProvider` — application permissions (client credentials) for
  contact sync, busy time, activity export and rooms. msal caches the token in the
  app object's own in-memory cache and renews it shortly before expiry.
* :class:`DelegatedTokenProvider` — one user's connected account for personal sync.
  The token cache (refresh token included) is a serialised
  ``msal.SerializableTokenCache`` blob that the addon stores on ``m365.account``.
  Refresh tokens rotate on every use, so whenever msal changes the cache the new
  blob is handed back through ``on_cache_change`` (and :attr:`cache_blob`): the
  caller must persist it, or the next refresh may fail.

Both build msal with ``http_client=`` a :class:`~m365_graph.core.http.PinnedSession`
(the configured CA bundle wins over ``REQUESTS_CA_BUNDLE``), and with
``instance_discovery=False`` when the authority is not one of Microsoft's own
hosts (a sandbox or a custom authority would otherwise be "validated" against
login.microsoftonline.com and rejected).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import msal
import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

from ..core.client import TokenProvider
from ..core.config import TenantConfig
from ..core.errors import AuthError, GraphError, ReconnectNeeded, Transient, error_from_identity
from ..core.errors import transient_from_exception as _transient
from ..core.http import PinnedSession, host_of
from ..core.retry import Budget, RetryPolicy
from ..core.text import decode_json
from .claims import decode_claims

__all__ = [
    "PERSONAL_SCOPES",
    "SHARED_SCOPES",
    "AppTokenProvider",
    "DelegatedTokenProvider",
    "IdentityHttp",
    "TokenProvider",
    "build_msal_app",
    "forget_app",
    "forget_apps",
    "msal_scopes",
]

# Delegated permissions of personal sync (docs/architecture.md, "Graph permissions per feature").
PERSONAL_SCOPES: tuple[str, ...] = (
    "User.Read",
    "Calendars.ReadWrite",
    "offline_access",
    "openid",
    "profile",
    "email",
)
SHARED_SCOPES: tuple[str, ...] = (*PERSONAL_SCOPES, "Calendars.ReadWrite.Shared")

# msal adds these itself and refuses them in its ``scopes`` arguments.
_MSAL_RESERVED = frozenset({"openid", "profile", "offline_access"})


def msal_scopes(config: TenantConfig, names: Sequence[str]) -> list[str]:
    """Resource-qualified scopes minus those msal adds by itself."""
    return [s for s in config.delegated_scopes(list(names)) if s not in _MSAL_RESERVED]


def _is_microsoft_authority(config: TenantConfig) -> bool:
    return (urlsplit(config.authority_host).hostname or "").lower() in WELL_KNOWN_AUTHORITY_HOSTS


#: msal's ``http_cache``, shared by every msal app of this process: it keeps the
#: identity platform's OpenID configuration (and instance metadata) for a day, so
#: building an app for a run costs no request (a no-change sync is one request).
HTTP_CACHE: dict[Any, Any] = {}
#: App-only msal apps kept per process (their in-memory token cache with them), by
#: authority, client id, secret digest and TLS settings.
_APPS: dict[tuple[Any, ...], msal.ConfidentialClientApplication] = {}
_APPS_LOCK = threading.Lock()


def _app_key(config: TenantConfig) -> tuple[Any, ...]:
    secret = hashlib.sha256((config.client_secret or "").encode("utf-8", "replace")).hexdigest()
    return (config.authority, config.client_id, secret, config.ca_bundle, config.timeout)


def forget_app(config: TenantConfig) -> None:
    """Drop the kept app of ``config``: its next job signs in anew (new roles show)."""
    with _APPS_LOCK:
        app = _APPS.pop(_app_key(config), None)
    if app is not None:
        with contextlib.suppress(requests.RequestException, OSError):
            app.http_client.close()


def forget_apps() -> None:
    """Drop the kept msal apps and the shared http cache (tests, a changed CA bundle)."""
    with _APPS_LOCK:
        for app in _APPS.values():
            with contextlib.suppress(requests.RequestException, OSError):
                app.http_client.close()
        _APPS.clear()
        HTTP_CACHE.clear()


class IdentityHttp:
    """The HTTP client msal gets: the pinned session plus retries like Graph's.

    msal does not retry (its docs leave it to the given ``http_client``): a proxy's
    503, a dropped connection or an HTML page from a load balancer would reach msal
    raw — ``HTTPError``, ``JSONDecodeError``. Here 429/5xx and dropped connections are
    retried with the same :class:`~m365_graph.core.retry.RetryPolicy` as Graph's (bounded
    attempts, ``Retry-After`` as seconds or HTTP date, a small wait budget), answers
    that are not JSON count as failed too, and what still fails is raised as
    :class:`~m365_graph.core.errors.Transient` in plain words.
    """

    def __init__(
        self,
        session: requests.Session,
        config: TenantConfig,
        retry: RetryPolicy | None = None,
        max_wait: float = 30.0,
    ):
        self.session = session
        self.config = config
        self.retry = retry or RetryPolicy(max_attempts=4, backoff_max=8.0, max_retry_after=20.0)
        self.max_wait = max_wait
        self.host = host_of(config.authority_host)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("POST", url, **kwargs)

    def close(self) -> None:
        self.session.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        policy = self.retry
        budget = Budget(max_wait=self.max_wait, max_failures=None)
        what = "Signing in to Microsoft 365"
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self.session.request(method, url, allow_redirects=False, **kwargs)
            except requests.RequestException as exc:
                if attempt >= policy.max_attempts or not budget.allow_wait(policy.backoff(attempt)):
                    raise _transient(
                        exc,
                        host=self.host,
                        timeout=self.config.timeout,
                        what=what,
                        attempts=attempt,
                    ) from exc
                policy.sleep(policy.backoff(attempt))
                continue
            status = resp.status_code
            usable = _readable_json(resp.content)
            if status < 500 and status != 429 and usable:
                return resp
            retry_after = policy.retry_after(resp.headers)
            wait = policy.delay(attempt, retry_after)
            if policy.should_give_up(attempt, retry_after) or not budget.allow_wait(wait):
                answer = f"HTTP {status}" + ("" if usable else ", not a JSON answer")
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise Transient(
                    f"{what}: the identity platform ({self.host}) had a temporary failure"
                    f"{tries} ({answer}); the next run tries again.",
                    host=self.host,
                    status=status,
                    retry_after=retry_after,
                    attempts=attempt,
                    detail=answer,
                )
            policy.sleep(wait)


def _readable_json(content: bytes) -> bool:
    try:
        value = decode_json(content or b"null")
    except ValueError:
        return False
    return value is None or isinstance(value, dict)


def build_msal_app(
    config: TenantConfig,
    *,
    token_cache: msal.TokenCache | None = None,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
) -> msal.ConfidentialClientApplication:
    """A ``ConfidentialClientApplication`` for ``config``, errors mapped to the taxonomy.

    msal reads the tenant's OpenID configuration while constructing the app — from
    :data:`HTTP_CACHE` after the first time in this process —, so an unknown tenant
    or an unreachable authority already fails here.
    """
    if not config.client_secret:
        raise AuthError("The client secret is not set in the Microsoft 365 settings.")
    http = IdentityHttp(session or PinnedSession(config.ca_bundle, config.timeout), config, retry)
    microsoft = _is_microsoft_authority(config)
    try:
        return msal.ConfidentialClientApplication(
            config.client_id,
            client_credential=config.client_secret,
            authority=config.authority,
            token_cache=token_cache,
            http_client=http,
            http_cache=HTTP_CACHE,
            # Instance discovery asks login.microsoftonline.com whether the authority
            # is known; a sandbox or custom host is not, so skip it for those.
            instance_discovery=None if microsoft else False,
            validate_authority=microsoft,
        )
    except GraphError:
        raise
    except requests.RequestException as exc:
        raise _transient(
            exc,
            host=host_of(config.authority_host),
            timeout=config.timeout,
            what="Signing in to Microsoft 365",
        ) from exc
    except msal.exceptions.MsalError as exc:
        raise error_from_identity(
            str(exc), tenant=config.tenant, client_id=config.client_id
        ) from exc
    except ValueError as exc:
        # msal raises ValueError("... OIDC Discovery failed ... AADSTS90002 ...") for an
        # unknown tenant, and for authority URLs it cannot parse.
        # msal re-raises the discovery failure with a generic text; the identity
        # platform's answer (with its AADSTS code) is in the chained exception.
        texts, cause = [], exc
        while cause is not None and len(texts) < 5:
            texts.append(str(cause))
            cause = cause.__cause__ or cause.__context__
        text = " | ".join(texts)
        mapped = error_from_identity(text, tenant=config.tenant, client_id=config.client_id)
        if mapped.aadsts:
            raise mapped from exc
        raise AuthError(
            f"The authority {config.authority} could not be used: check the tenant id and the "
            f"authority host. ({str(exc).splitlines()[0][:200]})",
            detail=text[:300],
        ) from exc


def _call_identity(config: TenantConfig, func: Callable[[], Any], what: str) -> Any:
    """Run an msal call; only the taxonomy leaves (network failures → :class:`Transient`,
    msal's service errors → :class:`AuthError`, unreadable answers → :class:`Transient`)."""
    host = host_of(config.authority_host)
    try:
        return func()
    except GraphError:
        raise
    except requests.RequestException as exc:
        raise _transient(exc, host=host, timeout=config.timeout, what=what) from exc
    except msal.exceptions.MsalError as exc:
        raise error_from_identity(
            str(exc), tenant=config.tenant, client_id=config.client_id
        ) from exc
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError) as exc:
        # e.g. an answer that is not JSON, or "expires_in": "soon" (msal int()s it).
        raise Transient(
            f"{what}: the identity platform's answer could not be read "
            f"({type(exc).__name__}); the next run tries again.",
            host=host,
            detail=str(exc)[:300],
        ) from exc
    except RuntimeError as exc:  # msal's IdTokenError (nonce, issuer, audience, time)
        raise AuthError(
            f"{what}: the identity platform's id token was not accepted ({str(exc)[:200]}).",
            detail=str(exc)[:300],
        ) from exc


class AppTokenProvider:
    """App-only tokens (client credentials) from msal's cache.

    Thread-safe: one instance is shared by all threads of a job. With ``keep`` (the
    default) the msal app is the one kept for this configuration in this process,
    so its token serves the following jobs too.
    """

    kind = "application"

    def __init__(
        self,
        config: TenantConfig,
        *,
        session: requests.Session | None = None,
        keep: bool = True,
        retry: RetryPolicy | None = None,
    ):
        self.config = config
        self._session = session
        self.keep = keep
        self.retry = retry
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self._refused_noted = False

    def _get_app(self) -> msal.ConfidentialClientApplication:
        if self._app is None and not self.keep:
            # A fresh app and token (Test connection: the roles granted right now).
            self._app = build_msal_app(self.config, session=self._session, retry=self.retry)
        if self._app is None:
            key = _app_key(self.config)
            with _APPS_LOCK:
                app = _APPS.get(key)
            if app is None:
                # Its own session: the app outlives the job (and its closed session).
                app = build_msal_app(
                    self.config,
                    session=PinnedSession(self.config.ca_bundle, self.config.timeout),
                    retry=self.retry,
                )
                with _APPS_LOCK:
                    app = _APPS.setdefault(key, app)
            self._app = app
        return self._app

    def get_token(self, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` drops the cached one first (after a 401).

        The msal app (and the token in its cache) is kept per process: a job that
        starts while the last token is valid asks the identity platform nothing.
        """
        with self._lock:
            app = self._get_app()
            if force_refresh:
                cache = app.token_cache
                for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                    cache.remove_at(item)
            result = _call_identity(
                self.config,
                lambda: app.acquire_token_for_client(scopes=self.config.app_scopes),
                "Signing in to Microsoft 365 with the application credentials",
            )
        if not isinstance(result, dict) or not isinstance(result.get("access_token"), str):
            raise error_from_identity(
                result if isinstance(result, dict) else {},
                tenant=self.config.tenant,
                client_id=self.config.client_id,
            )
        return result["access_token"]

    def token_refused(self) -> None:
        """Graph refused a request (403): the kept token may predate a new consent.

        Its roles are fixed when it is issued, so an administrator's consent only
        shows in a new token. The kept token is dropped once per provider (once per
        job): the next request — or the next job — signs in again.
        """
        with self._lock:
            if self._refused_noted or self._app is None:
                return
            self._refused_noted = True
            cache = self._app.token_cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(item)

    def claims(self) -> dict[str, Any]:
        """Claims of the current access token (``roles``, ``tid``, ``appid``…)."""
        return decode_claims(self.get_token())


class DelegatedTokenProvider:
    """Tokens of one connected user account, from a serialised msal token cache.

    ``cache_blob``: the string the addon stored (from :func:`finish_auth_code_flow` or
    from a previous ``on_cache_change``). ``home_account_id`` (preferred) or
    ``username`` picks the account in the cache. ``on_cache_change(blob)`` is called
    each time msal changes the cache — typically after a refresh, whose refresh token
    has rotated; persist the blob then.
    """

    kind = "delegated"

    def __init__(
        self,
        config: TenantConfig,
        cache_blob: str | None,
        *,
        home_account_id: str | None = None,
        username: str | None = None,
        scopes: Sequence[str] = PERSONAL_SCOPES,
        on_cache_change: Callable[[str], None] | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
    ):
        self.config = config
        self.retry = retry
        self.home_account_id = home_account_id
        self.username = username
        self.scopes = tuple(scopes)
        self.on_cache_change = on_cache_change
        self._session = session
        self._cache = msal.SerializableTokenCache()
        if cache_blob:
            try:
                self._cache.deserialize(cache_blob)
            except ValueError as exc:
                raise ReconnectNeeded(
                    "The stored Microsoft 365 sign-in of this account is unreadable; the user "
                    "must connect the account again."
                ) from exc
        self._blob = cache_blob
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    @property
    def cache_blob(self) -> str | None:
        """The latest serialised token cache (persist it when it changes)."""
        return self._blob

    def _get_app(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = build_msal_app(
                self.config, token_cache=self._cache, session=self._session, retry=self.retry
            )
        return self._app

    def _account(self, app: msal.ConfidentialClientApplication) -> dict[str, Any]:
        try:
            accounts = (
                app.get_accounts(username=self.username) if self.username else app.get_accounts()
            )
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            # A cache blob that is JSON but not msal's shape.
            raise ReconnectNeeded(
                "The stored Microsoft 365 sign-in of this account is unreadable; the user "
                "must connect the account again."
            ) from exc
        if self.home_account_id:
            accounts = [a for a in accounts if a.get("home_account_id") == self.home_account_id]
        if not accounts:
            raise ReconnectNeeded(
                "No Microsoft 365 sign-in is stored for this account; the user must connect it."
            )
        return accounts[0]

    def account(self) -> dict[str, Any]:
        """msal's account dict (``username``, ``home_account_id``…) of this provider."""
        with self._lock:
            return self._account(self._get_app())

    def _publish_cache(self) -> None:
        if self._cache.has_state_changed:
            self._blob = self._cache.serialize()
            if self.on_cache_change is not None:
                self.on_cache_change(self._blob)

    def get_token(self, force_refresh: bool = False) -> str:
        """A valid access token, refreshing (and rotating the refresh token) if needed.

        Raises :class:`ReconnectNeeded` when the refresh token is refused
        (``invalid_grant``: revoked, expired, password changed, MFA required).
        """
        with self._lock:
            app = self._get_app()
            account = self._account(app)
            try:
                result = _call_identity(
                    self.config,
                    lambda: app.acquire_token_silent_with_error(
                        msal_scopes(self.config, self.scopes),
                        account=account,
                        force_refresh=force_refresh,
                    ),
                    "Refreshing the Microsoft 365 sign-in",
                )
            finally:
                # Even a failed refresh can change the cache (msal drops dead tokens).
                self._publish_cache()
        if result is None:
            raise ReconnectNeeded(
                "The stored Microsoft 365 sign-in of this account has no usable token; the "
                "user must connect the account again."
            )
        if not isinstance(result, dict) or not isinstance(result.get("access_token"), str):
            raise error_from_identity(
                result if isinstance(result, dict) else {},
                tenant=self.config.tenant,
                client_id=self.config.client_id,
                refreshing=True,
            )
        return result["access_token"]
