"""The Microsoft identity platform (v2.0 endpoints) of the emulated tenant.

What belongs here: the authorize / token / consent / discovery endpoints, the
signing and verification of tokens, and what a token's ``roles`` / ``scp``
allow (the caller as a :class:`~m365_sandbox.identity.token_permissions.Principal`).
Graph (``graph/``) uses the last two to authorise its requests. Modules here
import only ``tenant/`` — never ``graph/`` or ``server/``.
"""
