"""Signing and checking the sandbox's JSON Web Tokens.

The identity endpoints issue RS256 access tokens (Graph-style v1.0 claims:
``roles`` for application permissions, ``scp`` for delegated ones, ``oid``,
``tid``, ``appid``) and v2.0 id tokens (``aud`` = client id, ``iss`` =
``{authority}/v2.0``, ``nonce``). The Graph endpoints trust only tokens that
this service signed and that have not expired on the sandbox clock; anything
else is 401 ``InvalidAuthenticationToken`` as on Graph. The public key is
published at ``/{tenant}/discovery/v2.0/keys``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from datetime import datetime

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ..tenant.service_errors import GraphError, invalid_auth

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

_key_lock = threading.Lock()
_process_key: dict = {}


def _signing_key():
    # RSA key generation takes tens of milliseconds: one key per process is
    # plenty for a test double (each sandbox still has its own kid/tenant).
    with _key_lock:
        if "key" not in _process_key:
            _process_key["key"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _process_key["key"]


class TokenService:
    """Issues and verifies tokens for one sandbox."""

    def __init__(self, issuer_base: str):
        self.issuer_base = issuer_base  # e.g. https://127.0.0.1:PORT
        self.key = _signing_key()
        public = self.key.public_key()
        self.kid = hashlib.sha1(  # noqa: S324 - a key id, not a security hash
            RSAAlgorithm.to_jwk(public).encode()
        ).hexdigest()[:27]
        self._public = public
        self._cache: dict[str, dict] = {}
        self._cache_lock = threading.Lock()

    # -- issuing ---------------------------------------------------------

    def _sign(self, claims: dict) -> str:
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"}
        )

    def access_token(
        self,
        *,
        tenant_id: str,
        client_id: str,
        app_name: str,
        now: datetime,
        lifetime: int,
        roles: list[str] | None = None,
        scopes: list[str] | None = None,
        user: dict | None = None,
    ) -> str:
        iat = int(now.timestamp())
        claims = {
            "aud": GRAPH_RESOURCE if user is None else GRAPH_APP_ID,
            "iss": f"{self.issuer_base}/{tenant_id}/",
            "iat": iat,
            "nbf": iat,
            "exp": iat + lifetime,
            "app_displayname": app_name,
            "appid": client_id,
            "appidacr": "1",
            "idtyp": "app" if user is None else "user",
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
        }
        if user is None:
            claims["oid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{tenant_id}:{client_id}"))
            claims["sub"] = claims["oid"]
            if roles:
                claims["roles"] = sorted(roles)
        else:
            claims.update(
                {
                    "oid": user["id"],
                    "sub": _pairwise(user["id"], client_id),
                    "upn": user.get("userPrincipalName"),
                    "unique_name": user.get("userPrincipalName"),
                    "name": user.get("displayName"),
                    "given_name": user.get("givenName"),
                    "family_name": user.get("surname"),
                    "scp": " ".join(scopes or []),
                    "amr": ["pwd"],
                }
            )
        return self._sign(claims)

    def id_token(
        self,
        *,
        tenant_id: str,
        client_id: str,
        user: dict,
        now: datetime,
        lifetime: int,
        nonce: str | None,
        with_email: bool,
    ) -> str:
        iat = int(now.timestamp())
        claims = {
            "aud": client_id,
            "iss": self.issuer(tenant_id),
            "iat": iat,
            "nbf": iat,
            "exp": iat + lifetime,
            "name": user.get("displayName"),
            "oid": user["id"],
            "preferred_username": user.get("userPrincipalName"),
            "sub": _pairwise(user["id"], client_id),
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "2.0",
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if with_email and user.get("mail"):
            claims["email"] = user["mail"]
        return self._sign(claims)

    def issuer(self, tenant_id: str) -> str:
        return f"{self.issuer_base}/{tenant_id}/v2.0"

    def jwks(self) -> dict:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._public))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    # -- checking --------------------------------------------------------

    def verify(self, token: str | None, tenant_id: str, now: datetime) -> dict:
        """Claims of a valid token, else GraphError 401 InvalidAuthenticationToken."""
        if not token:
            raise invalid_auth("Access token is empty.")
        with self._cache_lock:
            claims = self._cache.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self._public,
                    algorithms=["RS256"],
                    options={
                        "verify_aud": False,
                        "verify_exp": False,
                        "verify_nbf": False,
                        "verify_iat": False,
                    },
                )
            except jwt.InvalidSignatureError:
                raise invalid_auth("Access token validation failure. Invalid signature.") from None
            except jwt.PyJWTError:
                raise invalid_auth(
                    "IDX14100: JWT is not well formed, there are no dots (.) or the token is "
                    "invalid."
                ) from None
            with self._cache_lock:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[token] = claims
        if claims.get("tid") != tenant_id:
            raise invalid_auth("Access token validation failure. Invalid audience.")
        if claims.get("aud") not in (GRAPH_RESOURCE, GRAPH_APP_ID, f"{GRAPH_RESOURCE}/"):
            raise invalid_auth("Access token validation failure. Invalid audience.")
        if int(claims.get("exp", 0)) <= now.timestamp():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        return claims


def _pairwise(user_id: str, client_id: str) -> str:
    # "sub" is pairwise per user and app on the identity platform.
    digest = hashlib.sha256(f"{user_id}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:43]
