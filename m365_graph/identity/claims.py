"""Read the claims of an access or id token without verifying it.

Why this file exists: the permissions an app actually holds are only visible in its
token — application permissions in the ``roles`` claim, delegated ones in ``scp``.
"Test connection" shows them to the administrator. The token was just received over
TLS from the identity platform and is only *read* here (never trusted for
authorisation), so the signature is not verified; Graph verifies it.
"""

from __future__ import annotations

from typing import Any

import jwt

from ..core.errors import BadResponse
from ..core.text import clean_json

__all__ = ["decode_claims", "granted_roles", "granted_scopes"]


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT as a dict; :class:`BadResponse` if it is not a JWT."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise BadResponse("the access token is not a JSON Web Token", field="access_token")
    try:
        claims = jwt.decode(
            token,
            options={"verify_signature": False, "verify_exp": False, "verify_aud": False},
            algorithms=["RS256", "HS256", "ES256", "PS256", "none"],
        )
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as exc:
        raise BadResponse(
            f"the access token could not be decoded: {str(exc)[:200]}", field="access_token"
        ) from exc
    if not isinstance(claims, dict):
        raise BadResponse("the access token has no claims object", field="access_token")
    return clean_json(claims)


def granted_roles(token: str) -> frozenset[str]:
    """Application permissions (``roles`` claim) of an app-only access token."""
    roles = decode_claims(token).get("roles") or []
    if isinstance(roles, str):
        roles = roles.split()
    if not isinstance(roles, list):
        raise BadResponse("the token's 'roles' claim is not a list", field="roles")
    return frozenset(str(r) for r in roles)


def granted_scopes(token: str) -> frozenset[str]:
    """Delegated permissions (space-separated ``scp`` claim) of a user's access token."""
    scp = decode_claims(token).get("scp") or ""
    if isinstance(scp, list):
        return frozenset(str(s) for s in scp)
    if not isinstance(scp, str):
        raise BadResponse("the token's 'scp' claim is not a string", field="scp")
    return frozenset(scp.split())
