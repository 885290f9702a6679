"""Write-only, encrypted secret fields for models that hold Microsoft 365 credentials.

Client secrets and token caches must reach the Graph client, never the browser.

**Write-only.** One mechanism: :meth:`M365SecretMixin._has_field_access` answers
"no" for reading a secret field to everyone but the superuser environment the sync
runs in (``record.sudo()``), Settings administrators included. Odoo asks that
method on every read path, so a secret field is refused with an ``AccessError``
by ``read``/``web_read``/``search_read``/``web_search_read`` (and left out when no
field is named), by ``read_group``/``_read_group``/``formatted_read_group``/
``web_read_group``/``read_grouping_sets`` (group-by and aggregates), by
``export_data``, by search domains and ``order``, by ``onchange``, and is left out
of ``fields_get``. Writing stays allowed to whoever may write the field (its
``groups=``). Forms therefore never show a secret field itself: they offer an
input field that is always empty (see ``m365.tenant.client_secret_input``).

**Encrypted at rest.** :class:`EncryptedChar` and :class:`EncryptedText` encrypt
with the key of Odoo's server configuration (``m365_sync_key`` in the config file,
or the ``M365_SYNC_KEY`` environment variable; see ``m365_graph.core.secretbox``): the
value is encrypted when it is written (``write``/``create``, on any cursor) and
decrypted when server code reads the record attribute. A row written before a key
was configured stays readable and is encrypted on its next write or by
:meth:`_m365_reencrypt_secrets` (which also rotates to a new key). A missing or
wrong key raises a ``UserError`` in plain words when a secret is used: jobs stop
with that message and nothing is overwritten.
"""

import logging
import os
from functools import lru_cache

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from m365_graph.core.secretbox import SecretBox, SecretKeyError

_logger = logging.getLogger(__name__)

KEY_OPTION = "m365_sync_key"
KEY_ENV = "M365_SYNC_KEY"


def key_setting():
    """The key setting of the server: config file option first, then the environment."""
    return config.get(KEY_OPTION) or os.environ.get(KEY_ENV) or ""


@lru_cache(maxsize=4)
def _box_for(setting):
    return SecretBox(setting, source=f"{KEY_OPTION} (or {KEY_ENV})")


def secret_box():
    """The ``SecretBox`` of the server's key setting; ``UserError`` if it is malformed."""
    try:
        return _box_for(key_setting())
    except SecretKeyError as exc:
        raise UserError(str(exc)) from exc


class _EncryptedMixin:
    """Cache and database hold the sealed value; the record attribute is the plain text."""

    def convert_to_cache(self, value, record, validate=True):
        value = super().convert_to_cache(value, record, validate=validate)
        if validate and value:
            value = secret_box().seal(value)
        return value

    def convert_to_column(self, value, record, values=None, validate=True):
        value = super().convert_to_column(value, record, values, validate=validate)
        if value and isinstance(value, str):
            value = secret_box().seal(value)
        return value

    def convert_to_record(self, value, record):
        value = super().convert_to_record(value, record)
        if not value:
            return value
        try:
            return secret_box().open(value)
        except SecretKeyError as exc:
            raise UserError(str(exc)) from exc


class EncryptedChar(_EncryptedMixin, fields.Char):
    """A ``Char`` stored encrypted (write-only through ``m365.secret.mixin``)."""


class EncryptedText(_EncryptedMixin, fields.Text):
    """A ``Text`` stored encrypted (write-only through ``m365.secret.mixin``)."""


class M365SecretMixin(models.AbstractModel):
    _name = "m365.secret.mixin"
    _description = "Microsoft 365 write-only secret fields"

    #: Names of the fields nobody but the sync itself (superuser) may read.
    _m365_secret_fields = ()

    @api.model
    def _has_field_access(self, field, operation):
        if field.name in self._m365_secret_fields and not self.env.su:
            # Write-only: who may write it (its groups=) may set it, nobody reads it.
            return operation == "write" and super()._has_field_access(field, operation)
        return super()._has_field_access(field, operation)

    @api.model
    def _m365_secret_is_set(self, value):
        return bool(value and value.strip())

    def _m365_secret_stored(self, fname):
        """Ids of ``self`` that hold a value in secret field ``fname`` (never decrypted)."""
        if not self.ids:
            return set()
        self.sudo().flush_recordset([fname])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s AND COALESCE(%s, '') != ''",
                SQL.identifier(self._table),
                tuple(self.ids),
                SQL.identifier(fname),
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _m365_encryption_enabled(self):
        return secret_box().enabled

    @api.model
    def _m365_reencrypt_secrets(self, raise_errors=True):
        """Encrypt every stored secret with the current key (first key of the setting).

        Rows stored in plain text (before a key was configured) are encrypted; rows
        encrypted with an older key of the setting are re-encrypted with the first
        one. Returns ``(rewritten, failed)`` counts. With ``raise_errors=False`` (module
        upgrade) a row no configured key can decrypt is left as it is and logged.
        """
        rewritten = failed = 0
        try:
            box = secret_box()
        except UserError:
            if raise_errors:
                raise
            _logger.warning("Microsoft 365 secrets not re-encrypted", exc_info=True)
            return rewritten, failed
        if not box.enabled:
            return rewritten, failed
        for model_name in self._m365_secret_model_names():
            Model = self.env[model_name].sudo().with_context(active_test=False)
            for fname in Model._m365_secret_fields:
                Model.flush_model([fname])
                self.env.cr.execute(
                    SQL(
                        "SELECT id, %s FROM %s WHERE COALESCE(%s, '') != ''",
                        SQL.identifier(fname),
                        SQL.identifier(Model._table),
                        SQL.identifier(fname),
                    )
                )
                for record_id, stored in self.env.cr.fetchall():
                    if not box.needs_reseal(stored):
                        continue
                    try:
                        sealed = box.reseal(stored)
                    except SecretKeyError as exc:
                        if raise_errors:
                            raise UserError(str(exc)) from exc
                        _logger.warning(
                            "%s %s.%s not re-encrypted: %s", model_name, record_id, fname, exc
                        )
                        failed += 1
                        continue
                    self.env.cr.execute(
                        SQL(
                            "UPDATE %s SET %s = %s WHERE id = %s",
                            SQL.identifier(Model._table),
                            SQL.identifier(fname),
                            sealed,
                            record_id,
                        )
                    )
                    rewritten += 1
                Model.invalidate_model([fname])
        if rewritten or failed:
            _logger.info(
                "Microsoft 365 secrets re-encrypted: %s, left as they were: %s", rewritten, failed
            )
        return rewritten, failed

    @api.model
    def _m365_secret_model_names(self):
        """The models that hold secret fields (every model inheriting this mixin)."""
        children = self.env.registry["m365.secret.mixin"]._inherit_children
        return sorted(
            name
            for name in children
            if name in self.env
            and not self.env[name]._abstract
            and self.env[name]._m365_secret_fields
        )
