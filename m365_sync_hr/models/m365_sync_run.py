"""Sync runs of the HR jobs (work location, absences down) in the run log."""

from odoo import fields, models


class M365SyncRun(models.Model):
    _inherit = "m365.sync.run"

    kind = fields.Selection(
        selection_add=[
            ("work_location", "Work location"),
            ("absences", "Absences from Outlook"),
            ("auto_replies", "Automatic replies"),
        ],
        ondelete={"work_location": "cascade", "absences": "cascade", "auto_replies": "cascade"},
    )
