"""Appointments know which Microsoft 365 events they are linked to.

Personal sync (and, later, the upload to Outlook) links a ``calendar.event`` to
one Graph event per connected account that holds it. The links are shown on the
appointment so that a user can tell an appointment that came from Outlook.
"""

from odoo import fields, models


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    m365_link_ids = fields.One2many(
        "m365.event.link", "calendar_event_id", string="Microsoft 365 links", readonly=True
    )
    m365_from_outlook = fields.Boolean(
        string="From Outlook",
        compute="_compute_m365_from_outlook",
        help="This appointment was imported from a Microsoft 365 calendar.",
    )

    def _compute_m365_from_outlook(self):
        linked = set(
            self.env["m365.event.link"]
            .sudo()
            .search([("calendar_event_id", "in", self.ids), ("origin", "=", "outlook")])
            .calendar_event_id.ids
        )
        for event in self:
            event.m365_from_outlook = event.id in linked
