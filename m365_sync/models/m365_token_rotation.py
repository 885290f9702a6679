"""``m365.token.rotation``: a rotated sign-in saved the moment msal rotated it.

Why this file exists: msal rotates an account's refresh token on every use and the
old one is spent at once. The job's own transaction may still be rolled back (a
failed run, a killed worker, a dropped database connection), so ``TokenKeeper``
(``m365_account.py``) also commits each rotated cache on a cursor of its own into
this model, one row per account, which the job's transaction never touches. The
cache is a secret like the account's own: encrypted at rest, refused on every
read path but the sync's superuser read, and no access rights for anyone.
"""

from odoo import api, fields, models

from .m365_secret_mixin import EncryptedText


class M365TokenRotation(models.Model):
    """The latest rotated token cache of an account, committed as soon as msal rotated it.

    Written only by :class:`TokenKeeper` on its own cursor, read by the next run.
    ``account_id`` is a plain integer (no foreign key): the row is inserted from a
    second transaction while the job's transaction holds the account row, and must
    never wait for it. Rows of removed accounts are deleted by the personal-sync
    cron. Secret like the account's own cache: encrypted, system only, refused in every read.
    """

    _name = "m365.token.rotation"
    _description = "Microsoft 365 rotated sign-in"
    _inherit = ["m365.secret.mixin"]
    _m365_secret_fields = ("token_cache",)

    account_id = fields.Integer(required=True, index=True, readonly=True)
    token_cache = EncryptedText(groups="base.group_system", copy=False, prefetch=False)
    saved_at = fields.Float(required=True, readonly=True, digits=(16, 6))

    _account_uniq = models.Constraint(
        "UNIQUE(account_id)", "An account has one rotated sign-in at most."
    )

    @api.model
    def _m365_store(self, account_id, blob, saved_at):
        row = self.sudo().search([("account_id", "=", account_id)], limit=1)
        values = {"token_cache": blob, "saved_at": saved_at}
        if row:
            row.write(values)
        else:
            self.sudo().create({"account_id": account_id, **values})

    @api.model
    def _m365_gc(self):
        rotations = self.sudo().search([("account_id", "!=", False)])
        Account = self.env["m365.account"].sudo().with_context(active_test=False)
        alive = set(Account.search([("id", "in", rotations.mapped("account_id"))]).ids)
        rotations.filtered(lambda r: r.account_id not in alive).unlink()
