"""What a record needs to be sent to Outlook through the outbox.

Why this file exists: the outbox (``m365.outbox``) sends any record — an
appointment, a series, and next a planned activity — so the record's model
supplies what only it knows, through the *record protocol* of this mixin. The
defaults suit a record that maps to one stand-alone Outlook event.

The record protocol (no method of it calls Microsoft Graph: all Graph I/O of a
drain is the drain's own, batched — ``m365_outbox._Drain``):

1. **Plan** — ``_m365_plan(item, link)``, while the drain plans its rows, from Odoo
   data only: ``("send", None)`` (create, or update the linked event),
   ``("wait", None)`` (an update that must not create an event and has no link
   yet: the row is retried later) or ``("series", master)`` (an occurrence of a
   series already in Outlook whose occurrences are not linked yet: the drain
   reads the series' instances after its pushes, links them, then sends the row).
2. **Link values** — ``_m365_link_values(item, event)``, when the drain writes the
   new ``m365.event.link`` of a pushed event: the record's own values of it (its
   user, the appointment it stands for).
3. **After push** — ``_m365_after_push(link, event, created)``, once the links of
   a push round are written and its rows dropped: Odoo-side consequences only.
4. **Series** (records that are an Outlook series) — ``_m365_series_window()``
   says which span of instances the drain reads after the pushes (``None``: not
   a series); the drain reads the instances of every series of the round in
   ``$batch`` and hands them to ``_m365_link_occurrences(master, instances,
   account, created)``, which links the appointments and returns the ids of the
   Outlook occurrences to cancel; the drain sends those cancels itself.
5. **Conflict lost** — ``_m365_apply_remote(link, event)``: Outlook's version won a
   412 (the drain re-read it): bring it into Odoo.
6. **Failed for good** — ``_m365_push_failed(items)``, after the owner was told.
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
    def _m365_plan(self, item, link):
        """What the drain does with the row ``item`` of this record (pure, Odoo data).

        ``link`` is the record's link in the row's calendar (empty if never pushed).
        Returns ``("send", None)``, ``("wait", None)`` or ``("series", master link)``.
        """
        self.ensure_one()
        if link or not self._m365_needs_link(item):
            return "send", None
        return "wait", None

    def _m365_needs_link(self, item):
        """True when an update without a link must wait instead of creating an event."""
        return False

    def _m365_link_values(self, item, event):
        """The record's own values of the new link of ``event`` (pushed for ``item``)."""
        self.ensure_one()
        return {"user_id": self._m365_link_user(item).id}

    def _m365_after_push(self, link, event, created):
        """After the record's event was created or updated in Outlook (Odoo side only)."""

    def _m365_series_window(self):
        """``(start, end)`` of the occurrences to read back after a push; None: no series."""
        return None

    def _m365_apply_remote(self, link, event):
        """Outlook's version won a conflict: bring it into Odoo (default: nothing)."""

    def _m365_link_user(self, item):
        """The user a new link belongs to (default: the user of the outbox row)."""
        return item.user_id

    def _m365_push_failed(self, items):
        """Rows of these records just failed for good (after the owner was told)."""
