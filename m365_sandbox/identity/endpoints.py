"""The Microsoft identity platform (v2.0 endpoints) as far as the project needs it.

* ``/{tenant}/v2.0/.well-known/openid-configuration`` and the signing keys;
* ``/{tenant}/oauth2/v2.0/authorize``: the sign-in and consent step, which
  redirects back with ``code`` and ``state`` (or ``error=access_denied`` /
  ``consent_required``); tests make it answer at once, the demo shows a page;
* ``/{tenant}/oauth2/v2.0/token``: ``client_credentials`` (``roles`` = the
  app's granted application permissions), ``authorization_code`` with PKCE
  and a ``nonce`` in the id token, ``refresh_token`` with rotation (a used
  refresh token stops working);
* ``/{tenant}/adminconsent`` (and ``/{tenant}/v2.0/adminconsent``): as
  Microsoft's admin-consent endpoint ("Admin consent on the Microsoft identity
  platform", https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent,
  and "Grant tenant-wide admin consent to an application",
  https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/grant-admin-consent):
  ``redirect_uri`` is required and must match one registered on the app, else
  the page shows AADSTS50011 and redirects nowhere; granted, it redirects to
  the redirect URI with ``admin_consent=True&tenant=<tenant id>&state=…``;
  cancelled, with ``error=access_denied&error_description=AADSTS65004: …&state=…``.

The tenant segment may be the tenant id, a verified domain, ``organizations``
or ``common``. Errors use the platform's shape (``error``,
``error_description`` starting with the AADSTS number, ``error_codes``,
``timestamp``, ``trace_id``, ``correlation_id``) with the documented codes.
It works with the real ``msal`` library (see tests/sandbox/test_msal.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from ..tenant.service_errors import IdentityError
from .token_service import GRAPH_APP_ID, GRAPH_RESOURCE

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext
    from ..tenant.tenant_state import App

OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
_DEFAULT_SCOPES = {
    f"{GRAPH_RESOURCE}/.default",
    f"{GRAPH_RESOURCE}//.default",
    f"{GRAPH_APP_ID}/.default",
}


# -- errors ---------------------------------------------------------------------------


def tenant_not_found(segment: str) -> IdentityError:
    return IdentityError(
        400,
        "invalid_request",
        90002,
        f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may "
        "happen if there are no active subscriptions for the tenant.",
    )


def app_not_found(client_id: str, tenant: str) -> IdentityError:
    return IdentityError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your authentication "
        "request to the wrong tenant.",
    )


def _missing(parameter: str) -> IdentityError:
    return IdentityError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{parameter}'.",
    )


def _malformed_grant() -> IdentityError:
    return IdentityError(
        400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
    )


def _not_consented(app: App) -> IdentityError:
    return IdentityError(
        400,
        "invalid_grant",
        65001,
        f"The user or administrator has not consented to use the application with ID "
        f"'{app.client_id}' named '{app.display_name}'. Send an interactive authorization request "
        "for this user and resource.",
    )


# -- scopes ----------------------------------------------------------------------------


def split_scopes(text: str | None) -> tuple[set[str], set[str], bool, list[str]]:
    """(graph scopes, OIDC scopes, asked for .default, scopes of other resources)."""
    graph, oidc, default, other = set(), set(), False, []
    for scope in (text or "").split():
        lowered = scope.lower()
        if lowered in OIDC_SCOPES:
            oidc.add(lowered)
        elif lowered in {s.lower() for s in _DEFAULT_SCOPES} or lowered == ".default":
            default = True
        elif lowered.startswith(GRAPH_RESOURCE + "/"):
            graph.add(scope[len(GRAPH_RESOURCE) + 1 :])
        elif "/" in scope or ":" in scope:
            other.append(scope)
        else:
            graph.add(scope)
    return graph, oidc, default, other


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _with_params(uri: str, params: dict, fragment: bool = False) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    if fragment:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, extra))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class IdentityPlatform:
    """Request handlers of the identity endpoints of one tenant, through its handler context."""

    def __init__(self, ctx: HandlerContext):
        self.ctx = ctx
        self.state = ctx.state

    # -- plumbing -----------------------------------------------------------------

    def handle(self, request: Request, segment: str, rest: str) -> Response:
        try:
            return self._dispatch(request, segment, rest)
        except IdentityError as exc:
            return self._json(
                exc.body(self.ctx.base_url, request.headers.get("client-request-id")), exc.status
            )

    def _dispatch(self, request: Request, segment: str, rest: str) -> Response:
        kind = self.state.resolve_tenant(segment)
        rest = rest.strip("/")
        if rest in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"):
            if kind is None:
                raise tenant_not_found(segment)
            return self._json(self.openid_configuration(segment, kind))
        if rest in ("discovery/v2.0/keys", "discovery/keys"):
            return self._json(self.ctx.tokens.jwks())
        if rest == "oauth2/v2.0/token":
            if request.method != "POST":
                return self._json(
                    {"error": "invalid_request", "error_description": "POST required"}, 405
                )
            if kind is None:
                raise tenant_not_found(segment)
            return self.token(request, segment, kind)
        if rest == "oauth2/v2.0/authorize":
            return self.authorize(request, segment, kind)
        if rest in ("adminconsent", "v2.0/adminconsent"):
            return self.admin_consent(request, segment, kind)
        if rest == "oauth2/v2.0/logout":
            target = request.args.get("post_logout_redirect_uri")
            if target:
                return Response("", 302, {"Location": target})
            return self._page("Signed out", "<p>You signed out of your account.</p>")
        return self._json(
            {"error": "not_found", "error_description": f"Unknown endpoint '{rest}'."}, 404
        )

    @staticmethod
    def _json(body: dict, status: int = 200) -> Response:
        return Response(
            json.dumps(body),
            status,
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
            content_type="application/json; charset=utf-8",
        )

    @staticmethod
    def _page(title: str, content: str, status: int = 200) -> Response:
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:Segoe UI,Arial,sans-serif;max-width:34em;margin:3em "
            "auto;color:#1b1b1b}"
            "h1{font-size:1.4em}.perm{margin:.2em 0}button{margin-right:1em;padding:.5em 1.5em}"
            ".muted{color:#666;font-size:.9em}</style></head>"
            "<body><p class='muted'>Microsoft 365 "
            f"sandbox</p><h1>{html.escape(title)}</h1>{content}</body></html>"
        )
        return Response(page, status, content_type="text/html; charset=utf-8")

    def _error_page(self, exc: IdentityError) -> Response:
        body = (
            "<p>Sorry, but we're having trouble signing you in.</p>"
            f"<p><b>AADSTS{exc.aadsts}</b>: {html.escape(exc.description)}</p>"
        )
        return self._page("Sign in", body, exc.status)

    def _tenant_guid(self) -> str:
        return self.state.tenant_id

    # -- discovery --------------------------------------------------------------------

    def openid_configuration(self, segment: str, kind: str) -> dict:
        base = self.ctx.base_url
        # For common/organizations the issuer carries a "{tenantid}" placeholder.
        issuer_tenant = (
            "{tenantid}" if kind in ("common", "organizations") else self.state.tenant_id
        )
        return {
            "token_endpoint": f"{base}/{segment}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{segment}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{segment}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{base}/{segment}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": urlsplit(base).netloc,
            "rbac_url": "https://pas.windows.net",
        }

    # -- authorize -----------------------------------------------------------------------

    def _app_for_browser(self, params, segment: str, kind: str | None) -> App:
        if kind is None:
            raise tenant_not_found(segment)
        app = self.state.apps.get(params.get("client_id") or "")
        if app is None:
            raise app_not_found(params.get("client_id") or "", self.state.display_name)
        redirect = params.get("redirect_uri")
        if not app.redirect_allowed(redirect):
            raise IdentityError(
                400,
                "invalid_request",
                50011,
                f"The redirect URI '{redirect}' specified in the request does not match the "
                "redirect "
                f"URIs configured for the application '{app.client_id}'. Make sure the redirect "
                "URI "
                "sent in the request matches one added to your application in the Azure portal.",
            )
        return app

    def _redirect(self, params, values: dict) -> Response:
        mode = (params.get("response_mode") or "query").lower()
        uri = params["redirect_uri"]
        if mode == "form_post":
            inputs = "".join(
                f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(str(v))}'>"
                for k, v in values.items()
                if v is not None
            )
            page = (
                "<html><body onload='document.forms[0].submit()'>"
                f"<form method='post' action='{html.escape(uri)}'>{inputs}"
                "<noscript><button>Continue</button></noscript></form></body></html>"
            )
            return Response(page, 200, content_type="text/html; charset=utf-8")
        return Response(
            "", 302, {"Location": _with_params(uri, values, fragment=mode == "fragment")}
        )

    def _error_redirect(self, params, error: str, aadsts: int, description: str) -> Response:
        return self._redirect(
            params,
            {
                "error": error,
                "error_description": f"AADSTS{aadsts}: {description}",
                "error_uri": f"{self.ctx.base_url}/error?code={aadsts}",
                "state": params.get("state"),
            },
        )

    def authorize(self, request: Request, segment: str, kind: str | None) -> Response:
        params = request.form if request.method == "POST" else request.args
        try:
            app = self._app_for_browser(params, segment, kind)
        except IdentityError as exc:
            return self._error_page(exc)
        if (params.get("response_type") or "") != "code":
            return self._error_redirect(
                params,
                "unsupported_response_type",
                700054,
                "response_type 'id_token' is not enabled for the application.",
            )
        graph, oidc, default, other = split_scopes(params.get("scope"))
        if other:
            return self._error_redirect(
                params,
                "invalid_scope",
                70011,
                "The provided value for the input parameter 'scope' is not valid. "
                f"The scope '{' '.join(other)}' is not valid.",
            )
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and (method or "plain") not in ("S256", "plain"):
            return self._error_redirect(
                params, "invalid_request", 5001, "The code_challenge_method is not supported."
            )
        interactive = self.ctx.authorize_interactive
        decision = self.state.consent
        chosen = None
        if request.method == "POST" and params.get("sandbox_action"):
            decision = "accept" if params.get("sandbox_action") == "accept" else "deny"
            chosen = params.get("sandbox_user")
        elif interactive:
            return self._consent_page(params, app, graph | oidc, default)
        user = self._signed_in(chosen, params.get("login_hint"))
        if user is None:
            return self._error_redirect(
                params,
                "invalid_request",
                50034,
                "The user account does not exist in this directory.",
            )
        if not user.props.get("accountEnabled", True):
            return self._error_redirect(
                params, "access_denied", 50057, "The user account is disabled."
            )
        if user.foreign and kind not in ("common", "organizations"):
            # Microsoft Entra docs, "Error AADSTS50020 - User account from identity
            # provider does not exist in tenant".
            return self._error_redirect(
                params,
                "access_denied",
                50020,
                f"User account '{user.props['userPrincipalName']}' from identity provider "
                f"'https://sts.windows.net/{user.home_tenant}/' does not exist in tenant "
                f"'{self.state.display_name}' and cannot access the application "
                f"'{app.client_id}'({app.display_name}) in that tenant.",
            )
        user_id = user.props["id"]
        if default:
            graph = (
                graph
                | self.state.consented_scopes(user_id, app.client_id)
                | app.requested_scopes - OIDC_SCOPES
            )
        already = self.state.consented_scopes(user_id, app.client_id)
        needs_consent = not graph <= already
        if decision == "deny":
            return self._error_redirect(
                params, "access_denied", 65004, "User declined to consent to access the app."
            )
        if needs_consent and (decision == "admin_required" or not self.state.user_consent_allowed):
            return self._error_redirect(
                params, "consent_required", 90094, "The grant requires admin permission."
            )
        if needs_consent and (params.get("prompt") or "") == "none":
            return self._error_redirect(
                params, "consent_required", 65001, _not_consented(app).description
            )
        with self.state.lock:
            self.state.user_consents.setdefault((user_id, app.client_id), set()).update(graph)
            code = "0.AXoA" + self.state.random_token(96)
            self.state.codes[code] = {
                "client_id": app.client_id,
                "redirect_uri": params.get("redirect_uri"),
                "scopes": sorted(graph),
                "oidc": sorted(oidc),
                "user_id": user_id,
                "nonce": params.get("nonce"),
                "challenge": params.get("code_challenge"),
                "method": method or ("plain" if params.get("code_challenge") else None),
                "expires": self.state.now().timestamp() + self.state.code_lifetime,
                "used": False,
            }
        return self._redirect(
            params,
            {"code": code, "state": params.get("state"), "session_state": self.state.new_guid()},
        )

    def _signed_in(self, chosen: str | None, login_hint: str | None):
        state = self.state
        if chosen:
            return state.sign_in_record(chosen)
        if not state.signed_in_user and login_hint:
            record = state.sign_in_record(login_hint)
            if record is not None:
                return record
        return state.default_signed_in_user()

    def _consent_page(self, params, app: App, scopes: set[str], admin: bool) -> Response:
        hidden = "".join(
            f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
            for k, v in params.items()
            if not k.startswith("sandbox_")
        )
        current = self.state.default_signed_in_user()
        options = "".join(
            f"<option value='{html.escape(r.props['userPrincipalName'])}'"
            f"{' selected' if current is r else ''}>{html.escape(r.props['displayName'] or '')}"
            f" ({html.escape(r.props['userPrincipalName'])})</option>"
            for r in self.state.user_records()
            if r.props.get("userType") == "Member" and r.room is None
        )
        perms = (
            "".join(f"<div class='perm'>• {html.escape(s)}</div>" for s in sorted(scopes))
            or "<div>(none)</div>"
        )
        content = (
            f"<p><b>{html.escape(app.display_name)}</b> wants to:</p>{perms}"
            f"<form method='post'>{hidden}<p>Sign in as <select "
            f"name='sandbox_user'>{options}</select></p>"
            "<p><button name='sandbox_action' value='accept'>Accept</button>"
            "<button name='sandbox_action' value='cancel'>Cancel</button></p></form>"
            "<p class='muted'>This is the sandbox's stand-in for the Microsoft sign-in and "
            "consent pages.</p>"
        )
        return self._page("Permissions requested", content)

    # -- admin consent ---------------------------------------------------------------------

    def admin_consent(self, request: Request, segment: str, kind: str | None) -> Response:
        params = request.form if request.method == "POST" else request.args
        try:
            if kind is None or kind == "common":
                raise (
                    tenant_not_found(segment)
                    if kind is None
                    else IdentityError(
                        400,
                        "invalid_request",
                        50059,
                        "No tenant-identifying information found in either the request or implied "
                        "by any provided credentials.",
                    )
                )
            app = self._app_for_browser(params, segment, kind)
        except IdentityError as exc:
            return self._error_page(exc)
        decision = self.state.consent
        if request.method == "POST" and params.get("sandbox_action"):
            decision = "accept" if params.get("sandbox_action") == "accept" else "deny"
        elif self.ctx.authorize_interactive:
            hidden = "".join(
                f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
                for k, v in params.items()
            )
            perms = "".join(
                f"<div class='perm'>• {html.escape(r)} (application)</div>"
                for r in sorted(app.requested_roles)
            )
            content = (
                f"<p><b>{html.escape(app.display_name)}</b> asks an administrator of "
                f"<b>{html.escape(self.state.display_name)}</b> to grant, for the whole "
                f"organisation:</p>{perms}"
                f"<form method='post'>{hidden}<p><button name='sandbox_action' "
                "value='accept'>Accept</button>"
                "<button name='sandbox_action' value='cancel'>Cancel</button></p></form>"
            )
            return self._page("Permissions requested — admin consent", content)
        if decision == "deny":
            return self._error_redirect(
                params, "access_denied", 65004, "The admin canceled the request."
            )
        self.state.grant_admin_consent(app.client_id)
        values = {
            "admin_consent": "True",
            "tenant": self.state.tenant_id,
            "state": params.get("state"),
        }
        if params.get("scope"):
            values["scope"] = params.get("scope")
        return Response("", 302, {"Location": _with_params(params["redirect_uri"], values)})

    # -- token ---------------------------------------------------------------------------

    def _client(self, request: Request, form) -> App:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
                basic_id, _, basic_secret = decoded.partition(":")
                client_id, secret = client_id or basic_id, secret or basic_secret
            except ValueError:
                pass
        if not client_id:
            raise _missing("client_id")
        app = self.state.apps.get(client_id)
        if app is None:
            raise app_not_found(client_id, self.state.display_name)
        if form.get("client_assertion"):
            raise IdentityError(
                401, "invalid_client", 700027, "Client assertion failed signature validation."
            )
        if not secret:
            raise IdentityError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        if not hmac.compare_digest(secret.encode(), app.secret.encode()):
            raise IdentityError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the "
                "client secret value, not the client secret ID, for a secret added to app "
                f"'{app.client_id}'.",
            )
        return app

    def token(self, request: Request, segment: str, kind: str) -> Response:
        form = request.form
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _missing("grant_type")
        app = self._client(request, form)
        if grant_type == "client_credentials":
            return self._json(self._client_credentials(app, form, kind))
        if grant_type == "authorization_code":
            return self._json(self._authorization_code(app, form))
        if grant_type == "refresh_token":
            return self._json(self._refresh(app, form))
        raise IdentityError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    def _client_credentials(self, app: App, form, kind: str) -> dict:
        if kind in ("common", "organizations"):
            raise IdentityError(
                400,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any "
                "provided credentials.",
            )
        scope = form.get("scope")
        if not scope:
            raise _missing("scope")
        graph, oidc, default, other = split_scopes(scope)
        if other or not default or graph or oidc - {"offline_access", "openid", "profile"}:
            bad = other[0] if other else scope
            if not default and not other:
                raise IdentityError(
                    400,
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope} is not valid. Client credential flows "
                    "must "
                    "have a scope value with /.default suffixed to the resource identifier "
                    "(application ID URI).",
                )
            raise IdentityError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {bad} was not found in the tenant named "
                f"{self.state.display_name}. "
                "This can happen if the application has not been installed by the administrator "
                "of the tenant "
                "or consented to by any user in the tenant. You might have sent your "
                "authentication request to the wrong tenant.",
            )
        lifetime = self.state.access_token_lifetime
        token = self.ctx.tokens.access_token(
            tenant_id=self.state.tenant_id,
            client_id=app.client_id,
            app_name=app.display_name,
            now=self.state.now(),
            lifetime=lifetime,
            roles=sorted(app.roles),
        )
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def _authorization_code(self, app: App, form) -> dict:
        code = form.get("code")
        if not code:
            raise _missing("code")
        state = self.state
        with state.lock:
            grant = state.codes.get(code)
            if grant is None or grant["client_id"] != app.client_id:
                raise _malformed_grant()
            if grant["used"]:
                raise IdentityError(
                    400,
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new "
                    "valid code "
                    "or use an existing refresh token.",
                )
            if state.now().timestamp() > grant["expires"]:
                raise IdentityError(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to "
                    "inactivity. "
                    "Send a new interactive authorization request for this user and resource.",
                )
            if form.get("redirect_uri") != grant["redirect_uri"]:
                raise IdentityError(
                    400,
                    "invalid_grant",
                    50011,
                    f"The redirect URI '{form.get('redirect_uri')}' specified in the request does "
                    "not "
                    "match the redirect URI used to request the authorization code.",
                )
            if grant["challenge"]:
                verifier = form.get("code_verifier") or ""
                if grant["method"] == "S256":
                    computed = _b64(hashlib.sha256(verifier.encode()).digest())
                else:
                    computed = verifier
                if not verifier or not hmac.compare_digest(computed, grant["challenge"]):
                    raise IdentityError(
                        400,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the "
                        "authorization request.",
                    )
            record = state.sign_in_record(grant["user_id"])
            if record is None or not record.props.get("accountEnabled", True):
                raise IdentityError(400, "invalid_grant", 50057, "The user account is disabled.")
            if not set(grant["scopes"]) <= state.consented_scopes(grant["user_id"], app.client_id):
                raise _not_consented(app)
            grant["used"] = True
            return self._delegated_response(
                app,
                record,
                graph=set(grant["scopes"]),
                oidc=set(grant["oidc"]),
                nonce=grant["nonce"],
                form=form,
            )

    def _refresh(self, app: App, form) -> dict:
        token = form.get("refresh_token")
        if not token:
            raise _missing("refresh_token")
        state = self.state
        with state.lock:
            grant = state.refresh_tokens.get(token)
            if grant is None or grant["client_id"] != app.client_id:
                raise _malformed_grant()
            if grant["revoked"]:
                issued = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(grant["issued"]))
                raise IdentityError(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token "
                    "is needed. "
                    "The user might have changed or reset their password. The grant was issued on "
                    f"'{issued}' and the TokensValidFrom date (before which tokens are not valid) "
                    "for "
                    "this user is later.",
                )
            too_old = state.now().timestamp() - grant["issued"] > state.refresh_token_lifetime
            if grant["used"] or too_old:
                # Rotation: a refresh token is good for one redemption.
                raise IdentityError(
                    400,
                    "invalid_grant",
                    700082,
                    "The refresh token has expired due to inactivity. The token was issued on "
                    f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(grant['issued']))} and was "
                    "inactive "
                    "for too long, or it has already been redeemed.",
                )
            record = state.sign_in_record(grant["user_id"])
            if record is None or not record.props.get("accountEnabled", True):
                raise IdentityError(400, "invalid_grant", 50057, "The user account is disabled.")
            graph, oidc, default, other = split_scopes(form.get("scope"))
            if other:
                raise IdentityError(
                    400, "invalid_scope", 70011, f"The scope '{' '.join(other)}' is not valid."
                )
            consented = state.consented_scopes(grant["user_id"], app.client_id)
            if default or not graph:
                graph = set(grant["scopes"]) & consented if not default else consented - OIDC_SCOPES
            if not graph <= consented:
                raise _not_consented(app)
            oidc = oidc or set(grant["oidc"])
            grant["used"] = True
            return self._delegated_response(
                app, record, graph=graph, oidc=oidc | {"offline_access"}, nonce=None, form=form
            )

    def _delegated_response(
        self, app: App, record, *, graph: set[str], oidc: set[str], nonce, form
    ) -> dict:
        state = self.state
        now = state.now()
        lifetime = state.access_token_lifetime
        user = record.props
        # The tenant signed into (tid) and the account's home tenant (utid): they
        # differ for a guest; both are the other tenant's for a foreign account.
        tid = record.home_tenant if record.foreign else state.tenant_id
        utid = record.home_tenant or state.tenant_id
        scp = sorted(graph) + sorted(oidc & {"openid", "profile", "email"})
        result = {
            "token_type": "Bearer",
            "scope": " ".join(scp),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self.ctx.tokens.access_token(
                tenant_id=tid,
                client_id=app.client_id,
                app_name=app.display_name,
                now=now,
                lifetime=lifetime,
                scopes=scp,
                user=user,
            ),
        }
        if "offline_access" in oidc:
            refresh = "1.AXoA" + state.random_token(120)
            state.refresh_tokens[refresh] = {
                "user_id": user["id"],
                "client_id": app.client_id,
                "scopes": sorted(graph),
                "oidc": sorted(oidc),
                "issued": now.timestamp(),
                "used": False,
                "revoked": False,
            }
            result["refresh_token"] = refresh
        if "openid" in oidc:
            result["id_token"] = self.ctx.tokens.id_token(
                tenant_id=tid,
                client_id=app.client_id,
                user=user,
                now=now,
                lifetime=lifetime,
                nonce=nonce,
                with_email="email" in oidc,
            )
        if form.get("client_info") == "1":
            info = json.dumps({"uid": user["id"], "utid": utid}).encode()
            result["client_info"] = _b64(info)
        return result
