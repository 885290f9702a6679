"""Encryption at rest of the secrets the addon stores (client secret, token caches).

Pure Python, no Odoo: the addon hands this module the key setting it read from
Odoo's server configuration (``m365_sync_key``) and stores what :meth:`SecretBox.seal`
returns. Encryption is ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256, with a
timestamp), an Odoo requirement already.

The key setting holds one or more Fernet keys separated by commas or spaces. The
first key encrypts; every key decrypts (``MultiFernet``). To rotate: put a new key
first and keep the old one after it, re-encrypt (:meth:`SecretBox.reseal`), then
drop the old key.

A sealed value is ``PREFIX`` + a Fernet token, so a value written before encryption
was switched on (plain text) is still recognised and read as it is, and sealing is
idempotent. Errors are :class:`SecretKeyError` in plain words: a missing key, a
malformed key, or a value no configured key can decrypt.
"""

from __future__ import annotations

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "m365enc:v1:"
GENERATE_HINT = (
    'python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretKeyError(Exception):
    """The encryption key is missing, malformed, or cannot decrypt a stored secret."""


def parse_keys(setting: str | None) -> list[str]:
    """The keys of a key setting, current key first; ``[]`` when none is configured."""
    if not setting:
        return []
    return [key for key in re.split(r"[\s,;]+", str(setting).strip()) if key]


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class SecretBox:
    """Seals and opens secrets with the keys of one key setting."""

    def __init__(self, setting: str | None, source: str = "m365_sync_key"):
        self.source = source
        self.keys = parse_keys(setting)
        fernets = []
        for index, key in enumerate(self.keys, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError) as exc:
                raise SecretKeyError(
                    f"Key number {index} of {source} is not a valid encryption key (a Fernet "
                    f"key is 44 characters of URL-safe base64). Generate one with: "
                    f"{GENERATE_HINT}"
                ) from exc
        self._multi = MultiFernet(fernets) if fernets else None

    @property
    def enabled(self) -> bool:
        """True when a key is configured: new values are encrypted."""
        return self._multi is not None

    def seal(self, value: str | None) -> str | None:
        """``value`` encrypted with the current key (as is without a key, or if sealed)."""
        if not value or is_sealed(value) or not self.enabled:
            return value
        return PREFIX + self._multi.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The plain text of a stored value (a value stored unencrypted is returned as is)."""
        if not is_sealed(value):
            return value
        if not self.enabled:
            raise SecretKeyError(
                f"The Microsoft 365 secrets in this database are encrypted, but the Odoo server "
                f"has no encryption key: set {self.source} in the server configuration (or the "
                f"environment) to the key they were encrypted with and restart Odoo. Nothing "
                f"was lost; the jobs resume once the key is back."
            )
        try:
            return self._multi.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                f"A Microsoft 365 secret cannot be decrypted with the key(s) in {self.source}: "
                f"the key was changed or is wrong. Put the previous key back (after the new "
                f"one, separated by a comma, to rotate) and restart Odoo. Nothing was lost; "
                f"the jobs resume once the key is right."
            ) from exc

    def reseal(self, value: str | None) -> str | None:
        """``value`` encrypted with the current key, whatever key (or none) it had."""
        if not value or not self.enabled:
            return value
        return self.seal(self.open(value))

    def needs_reseal(self, value: str | None) -> bool:
        """True when ``value`` is not encrypted with the current key."""
        if not value or not self.enabled:
            return False
        if not is_sealed(value):
            return True
        try:
            Fernet(self.keys[0].encode()).decrypt(value[len(PREFIX) :].encode())
        except InvalidToken:
            return True
        return False
