"""A "Busy" block the busy-only mirror wrote into one of a user's accounts.

Why this file exists: the mirror (``m365.job.mirror``, decisions in
``m365_graph.sync.mirror``) copies the busy time of each of a user's mirrored
accounts into the others, without details. Each block it writes is remembered
here — which account and event it stands for, which account and event holds it —
so that a block is moved with its source, deleted when the source goes or the
mirror is switched off, and never taken for a source itself (loop prevention,
with the marker category the block carries in Outlook).

Rows belong to the sync: users read their own (record rule), nobody writes them.
"""

from odoo import fields, models


class M365MirrorBlock(models.Model):
    _name = "m365.mirror.block"
    _description = "Microsoft 365 busy-only mirror block"
    _order = "start, id"

    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="user_id.company_id", store=True)
    # An account that is removed leaves its blocks to be cleaned up (set null).
    source_account_id = fields.Many2one("m365.account", ondelete="set null", index=True)
    source_event_id = fields.Char(required=True)
    target_account_id = fields.Many2one("m365.account", ondelete="set null", index=True)
    target_event_id = fields.Char(required=True, index=True)
    start = fields.Datetime(required=True)
    stop = fields.Datetime(required=True)
    all_day = fields.Boolean()

    _target_unique = models.Constraint(
        "UNIQUE(target_account_id, target_event_id)",
        "A mirror block is recorded once per event.",
    )
