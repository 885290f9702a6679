"""Graph change-notification subscriptions (``m365.subscription``): one row per watched mailbox.

Why this file exists: instead of polling, Odoo asks Graph to POST a notification
to its webhook (``controllers/webhook.py``) whenever an event of a mailbox is
created, changed or deleted. A row is one such subscription: the busy time of one
covered user (application permission, ``users/{id}/events``), the calendar of
one mapped room (application permission, ``users/{room mailbox}/events``) or the
personal calendar of one connected account (delegated, ``me/events``). The rows are kept
by ``m365.job.subscription`` (create, renew spread over time, reauthorize,
recreate, delete); this model only keeps the data and answers the webhook.

The ``clientState`` is a random secret per subscription, written only by the sync,
stored encrypted and never readable (``m365.secret.mixin``); the webhook compares
the one it receives in constant time with the SHA-256 it keeps in a per-worker
cache (:meth:`_m365_digest_map`), so a forged notification costs no database
read and changes nothing. A genuine one only marks the row *pending* (one
``UPDATE``) and wakes the notification cron (``ir.cron._trigger``): the work —
re-reading the mailbox by delta — is done by the job's unit, never in the
request. Duplicates and out-of-order notifications are harmless: they mark an
already pending row pending.
"""

import logging
import time

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from m365_graph.sync.notifications import (
    client_state_digest,
    client_state_matches,
    lifecycle_action,
    renewal_time,
)

from .m365_secret_mixin import EncryptedChar

_logger = logging.getLogger(__name__)

STATES = [
    ("new", "To create"),
    ("active", "Active"),
    ("reauthorize", "Reauthorization required"),
    ("failed", "Failed"),
    ("unmatched", "No mailbox"),
    ("removing", "To delete"),
]

#: Dropped notifications are logged at most this often (forged floods).
LOG_EVERY = 60.0
_dropped = {"count": 0, "since": 0.0}
#: Per worker and database: (loaded at, {graph id: (row id, digest)}).
_DIGESTS = {}
#: An unknown id reloads the map at most this often (seconds).
RELOAD_EVERY = 2.0


def _log_dropped(reason, sub_id):
    """Log a dropped notification — the reason and the id only, never the secret —
    at most once a minute with the count, so that a flood does not fill the log."""
    _dropped["count"] += 1
    now = time.monotonic()
    if now - _dropped["since"] >= LOG_EVERY:
        _logger.warning(
            "Microsoft 365 webhook: %s notification(s) dropped in the last minute; "
            "latest: %s (subscription %s)",
            _dropped["count"],
            reason,
            (sub_id or "?")[:64],
        )
        _dropped["count"] = 0
        _dropped["since"] = now


class M365Subscription(models.Model):
    _name = "m365.subscription"
    _inherit = ["m365.secret.mixin"]
    _description = "Microsoft 365 change-notification subscription"
    _order = "tenant_id, kind, id"
    _rec_name = "resource"

    _m365_secret_fields = ("client_state", "client_state_digest")

    tenant_id = fields.Many2one(
        "m365.tenant", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="tenant_id.company_id", store=True, index=True)
    kind = fields.Selection(
        [("busy", "Busy time"), ("personal", "Personal calendar"), ("room", "Room calendar")],
        required=True,
        readonly=True,
        index=True,
    )
    account_id = fields.Many2one(
        "m365.account",
        readonly=True,
        ondelete="set null",
        index=True,
        help="The connected account a personal subscription watches (delegated).",
    )
    room_id = fields.Many2one(
        "m365.room",
        readonly=True,
        ondelete="set null",
        index=True,
        help="The room whose calendar a room subscription watches (application).",
    )
    user_id = fields.Many2one(
        "res.users", readonly=True, ondelete="cascade", index=True, help="Whose calendar."
    )
    mailbox = fields.Char(
        readonly=True, help="The mailbox in Graph: the user's id, or 'me' for a sign-in."
    )
    resource = fields.Char(readonly=True)
    change_type = fields.Char(readonly=True)
    graph_id = fields.Char(string="Subscription id", readonly=True, copy=False, index=True)
    expiration = fields.Datetime(readonly=True, copy=False)
    renew_at = fields.Datetime(string="Renew at", readonly=True, copy=False, index=True)
    retry_at = fields.Datetime(readonly=True, copy=False)
    notification_url = fields.Char(readonly=True, copy=False)
    lifecycle_url = fields.Char(string="Lifecycle URL", readonly=True, copy=False)
    client_state = EncryptedChar(copy=False, groups="base.group_system")
    client_state_digest = fields.Char(copy=False, groups="base.group_system")
    state = fields.Selection(STATES, default="new", required=True, readonly=True, index=True)
    pending = fields.Boolean(
        readonly=True, copy=False, index=True, help="Notified: the mailbox is to be read."
    )
    pending_since = fields.Datetime(readonly=True, copy=False)
    last_notification = fields.Datetime(readonly=True, copy=False)
    notification_count = fields.Integer(readonly=True, copy=False)
    last_renewed = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    error_count = fields.Integer(readonly=True, copy=False)

    _graph_id_uniq = models.UniqueIndex(
        "(graph_id) WHERE graph_id IS NOT NULL", "A Graph subscription is kept once."
    )

    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for sub in self:
            who = (
                sub.account_id.display_name
                or sub.room_id.name
                or sub.user_id.display_name
                or sub.mailbox
                or ""
            )
            sub.display_name = f"{kinds.get(sub.kind, '')}: {who}".strip(": ")

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_m365_renew_now(self):
        """Button (Microsoft 365 managers): renew, or create again, now — through the
        subscription job, never in the request."""
        self.check_access("read")
        if not self.env.user.has_group("m365_sync.group_m365_manager"):
            raise AccessError(self.env._("Only Microsoft 365 managers may renew subscriptions."))
        now = fields.Datetime.now()
        rows = self.sudo()
        rows.filtered(lambda s: s.state == "active").write({"renew_at": now})
        rows.filtered(lambda s: s.state == "failed").write({"state": "new", "retry_at": False})
        self.env["m365.job.subscription"]._m365_trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The subscription job will renew %(count)s subscription(s) in a moment.",
                    count=len(self),
                ),
            },
        }

    # ------------------------------------------------------------------
    # The webhook's side (called by controllers/webhook.py, as superuser)
    # ------------------------------------------------------------------
    @api.model
    def _m365_digest_map(self, refresh=False):
        """{Graph subscription id: (row id, clientState digest)} of this database.

        Kept per worker (:data:`_DIGESTS`); loaded again when asked for an id it does
        not know, at most every :data:`RELOAD_EVERY` seconds — so a subscription
        created by another worker is known within seconds, and a flood of forged ids
        costs at most one query per interval — and dropped by the subscription job
        after it created or removed subscriptions (:meth:`_m365_forget_digests`).
        """
        dbname = self.env.cr.dbname
        cached = _DIGESTS.get(dbname)
        now = time.monotonic()
        if cached and not (refresh and now - cached[0] >= RELOAD_EVERY):
            return cached[1]
        self.env.cr.execute(
            SQL(
                "SELECT graph_id, id, client_state_digest FROM m365_subscription "
                "WHERE graph_id IS NOT NULL AND client_state_digest IS NOT NULL "
                "AND state IN ('active', 'reauthorize')"
            )
        )
        known = {graph_id: (row_id, digest) for graph_id, row_id, digest in self.env.cr.fetchall()}
        _DIGESTS[dbname] = (now, known)
        return known

    @api.model
    def _m365_forget_digests(self):
        _DIGESTS.pop(self.env.cr.dbname, None)

    @api.model
    def _m365_match(self, items):
        """The genuine items of a notification POST: [(row id, item)]; the rest is
        dropped and logged (reason and id, never the secret). No database write."""
        known = self._m365_digest_map()
        if any(item.subscription_id not in known for item in items):
            known = self._m365_digest_map(refresh=True)
        genuine = []
        for item in items:
            entry = known.get(item.subscription_id)
            if entry is None:
                _log_dropped("unknown subscription", item.subscription_id)
                continue
            if not client_state_matches(item.client_state, entry[1]):
                _log_dropped("clientState does not match", item.subscription_id)
                continue
            genuine.append((entry[0], item))
        return genuine

    @api.model
    def _m365_receive(self, items):
        """Change notifications: mark the subscriptions pending (one UPDATE) and wake
        the notification cron when one was not pending yet. Returns how many items
        were genuine."""
        genuine = self._m365_match(items)
        if not genuine:
            return 0
        ids = sorted({row_id for row_id, _item in genuine})
        self.env.cr.execute(
            SQL(
                "WITH old AS (SELECT id, pending FROM m365_subscription WHERE id = ANY(%s) "
                "ORDER BY id FOR UPDATE) "
                "UPDATE m365_subscription s SET pending = TRUE, "
                "pending_since = CASE WHEN old.pending THEN s.pending_since "
                "ELSE (now() AT TIME ZONE 'UTC') END, "
                "last_notification = (now() AT TIME ZONE 'UTC'), "
                "notification_count = COALESCE(s.notification_count, 0) + 1 "
                "FROM old WHERE s.id = old.id RETURNING old.pending",
                ids,
            )
        )
        if any(not was for (was,) in self.env.cr.fetchall()):
            self.env.ref("m365_sync.ir_cron_m365_notifications").sudo()._trigger()
        return len(genuine)

    @api.model
    def _m365_receive_lifecycle(self, items):
        """Lifecycle notifications: reauthorize, recreate or resync (queued, then the
        subscription job or the notification cron does the work)."""
        genuine = self._m365_match(items)
        maintenance = resync = False
        for row_id, item in genuine:
            action = lifecycle_action(item.lifecycle_event)
            row = self.browse(row_id).exists()
            if not row or not action:
                continue
            if action == "reauthorize":
                row.write({"state": "reauthorize"})
                maintenance = True
            elif action == "recreate":
                # Graph removed it: create a new one; the old id is forgotten.
                row.write({"state": "new", "graph_id": False, "retry_at": False})
                maintenance = resync = True
            # missed (and a recreation) → read the mailbox again by delta.
            if action in ("resync", "recreate"):
                row.write({"pending": True, "pending_since": fields.Datetime.now()})
                resync = True
        if maintenance:
            self._m365_forget_digests()
            self.env.ref("m365_sync.ir_cron_m365_subscriptions").sudo()._trigger()
        if resync:
            self.env.ref("m365_sync.ir_cron_m365_notifications").sudo()._trigger()
        return len(genuine)

    # ------------------------------------------------------------------
    # For the job
    # ------------------------------------------------------------------
    def _m365_store_created(self, graph_sub, client_state, notification_url, lifecycle_url):
        """Keep what Graph answered to a creation (a fresh secret and digest)."""
        self.ensure_one()
        expires = fields.Datetime.to_datetime(graph_sub.expires.replace(tzinfo=None))
        self.sudo().write(
            {
                "graph_id": graph_sub.id,
                "resource": graph_sub.resource or self.resource,
                "change_type": graph_sub.change_type,
                "expiration": expires,
                "renew_at": renewal_time(graph_sub.id, expires),
                "client_state": client_state,
                "client_state_digest": client_state_digest(client_state),
                "notification_url": notification_url,
                "lifecycle_url": lifecycle_url,
                "state": "active",
                "last_renewed": fields.Datetime.now(),
                "last_error": False,
                "error_count": 0,
                "retry_at": False,
            }
        )
