"""Write-only secret fields for models that hold Microsoft 365 credentials.

Client secrets and token caches must reach the Graph client, never the browser.
Field-level ``groups=`` already stops everyone but Settings administrators; this
mixin goes further and blanks those fields in every ``read``/``web_read``/
``search_read`` answer, administrators included, so a form or an RPC call can
set a secret but never get it back. Server code reads the value through the
record attribute (``record.sudo().client_secret``), which does not go through
``_read_format``.
"""

from odoo import api, models


class M365SecretMixin(models.AbstractModel):
    _name = "m365.secret.mixin"
    _description = "Microsoft 365 write-only secret fields"

    #: Names of the fields that must never be returned by ``read``.
    _m365_secret_fields = ()

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load=load)
        hidden = [name for name in self._m365_secret_fields if name in fnames]
        if hidden:
            for values in result:
                for name in hidden:
                    values[name] = False
        return result

    @api.model
    def _m365_secret_is_set(self, value):
        return bool(value and value.strip())
