"""What a record needs to be sent to Outlook through the outbox.

Why this file exists: the outbox (``m365.outbox``) sends any record — an
appointment, a series, and next a planned activity — so the record's model
supplies what only it knows, through the hooks of this mixin: which account
writes it, the body it becomes, and what to do after a push, after a conflict
Outlook won, or to find its event when it has no link yet. The defaults suit a
record that maps to one stand-alone Outlook event.
"""

from odoo import api, models

from m365_graph.sync.personal import PUSH_DIRECTIONS

#: Context keys under which record changes are not sent to Outlook: the personal
#: pull's own writes (they come *from* Outlook), and explicit opt-outs.
NO_PUSH_KEYS = ("m365_pull", "m365_no_push")


class M365PushMixin(models.AbstractModel):
    _name = "m365.push.mixin"
    _description = "Microsoft 365 upload hooks"

    @api.model
    def _m365_push_disabled(self):
        return any(self.env.context.get(key) for key in NO_PUSH_KEYS)

    @api.model
    def _m365_upload_accounts(self, users):
        """``{user id: main account}`` of the users whose changes go to Outlook.

        Only the main account receives uploads, when its direction is Up or Both and
        personal sync is on for its company. An account that must be reconnected
        still gets rows: they wait in the outbox until it is connected again.
        """
        if not users:
            return {}
        accounts = (
            self.env["m365.account"]
            .sudo()
            .search(
                [
                    ("user_id", "in", users.ids),
                    ("is_main", "=", True),
                    ("direction", "in", tuple(PUSH_DIRECTIONS)),
                    ("state", "!=", "new"),
                    ("tenant_id.personal_sync", "=", True),
                    ("tenant_id.active", "=", True),
                ]
            )
        )
        return {account.user_id.id: account for account in accounts}

    def _m365_outbox_entry(self, operation, account, built=None, link=None, **values):
        """One row for ``m365.outbox._m365_enqueue`` (delegated write to ``me``)."""
        self.ensure_one()
        Outbox = self.env["m365.outbox"]
        entry = {
            "res_model": self._name,
            "res_id": self.id,
            "res_name": self.display_name,
            "operation": operation,
            "writer": "delegated",
            "account_id": account.id,
            "tenant_id": account.tenant_id.id,
            "company_id": account.company_id.id,
            "user_id": account.user_id.id,
            "mailbox": "me",
            "link": link,
            "transaction_id": Outbox._m365_transaction_id(self._name, self.id, account.id),
        }
        if operation == "delete" and link:
            # The link may be deleted with the record: keep what the deletion needs.
            entry.update(graph_event_id=link.graph_event_id, series_master_id=link.series_master_id)
        if built is not None:
            entry.update(
                payload=built.payload,
                payload_hash=built.hash,
                notes="\n".join(built.warnings) or False,
            )
        entry.update(values)
        return entry

    # ------------------------------------------------------------------
    # Hooks called by the drain
    # ------------------------------------------------------------------
    def _m365_find_link(self, item, drain):
        """The link of a record that has none yet (e.g. an occurrence of a series)."""
        return self.env["m365.event.link"]

    def _m365_needs_link(self, item):
        """True when an update without a link must wait instead of creating an event."""
        return False

    def _m365_after_push(self, link, event, drain, created):
        """Called after the record's event was created or updated in Outlook."""

    def _m365_apply_remote(self, link, event):
        """Outlook's version won a conflict: bring it into Odoo (default: nothing)."""

    def _m365_link_user(self, item):
        """The user a new link belongs to (default: the user of the outbox row)."""
        return item.user_id

    def _m365_push_failed(self, items):
        """Rows of these records just failed for good (after the owner was told)."""
