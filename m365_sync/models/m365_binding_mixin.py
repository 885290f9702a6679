"""Rows that bind a mailbox to a person: only the sync itself creates or re-binds them.

Why this file exists: an event link or an outbox row says which Outlook mailbox
(account, Graph user, calendar) a record of which Odoo user is written to. Whoever
could create such a row, or change those fields, could read or write another
person's calendar with that person's sign-in. So outside the superuser environment
the sync runs in, creating a row is refused and writing a binding field is refused,
for managers and administrators alike; the other fields follow the model's rules.
"""

from odoo import api, models
from odoo.exceptions import AccessError


class M365BindingMixin(models.AbstractModel):
    _name = "m365.binding.mixin"
    _description = "Microsoft 365 mailbox binding (sync only)"

    #: Fields binding a row to a mailbox and a person (written by the sync only).
    _m365_binding_fields = frozenset()

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Only the Microsoft 365 sync itself creates records of %(model)s.",
                    model=self._description,
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        refused = self._m365_binding_fields & vals.keys()
        if refused and not self.env.su:
            raise AccessError(
                self.env._(
                    "You cannot change %(fields)s of %(model)s: only the Microsoft 365 sync "
                    "itself binds it to a mailbox and a person.",
                    fields=", ".join(sorted(refused)),
                    model=self._description,
                )
            )
        return super().write(vals)
