"""The "Schedule activity" dialog: planned start and duration for exporting projects.

Odoo 19 schedules new activities through the ``mail.activity.schedule`` wizard
(the chatter's *Activities* button, the list views' *Schedule activity* action).
For records of a project that exports activities to Outlook the dialog shows the
planned start and duration; they are handed to the activities it creates as
defaults, so the activities are created — and queued for Outlook — once, with
their planned time. Below them the assignee's Outlook free/busy for the planned day
is shown, with a conflict and the next free slot (``m365.availability``).
"""

from datetime import timedelta

from odoo import api, fields, models


class MailActivitySchedule(models.TransientModel):
    _inherit = "mail.activity.schedule"

    m365_planned_start = fields.Datetime(
        string="Planned start",
        help="When the work is planned. Empty: the due date at the assignee's working-day "
        "start. The Outlook event starts then.",
    )
    m365_planned_duration = fields.Float(
        string="Planned duration",
        help="How long the work takes (hours). Empty: the project's default duration.",
    )
    m365_export_enabled = fields.Boolean(
        string="Project exports to Outlook", compute="_compute_m365_export_enabled"
    )

    m365_availability = fields.Json(
        string="Outlook availability",
        compute="_compute_m365_availability",
        help="The assignee's Outlook free/busy on the planned day (m365.availability).",
    )

    @api.depends("activity_user_id", "m365_planned_start", "m365_planned_duration")
    def _compute_m365_availability(self):
        Availability = self.env["m365.availability"]
        for scheduler in self:
            start = scheduler.m365_planned_start
            hours = scheduler.m365_planned_duration or 1.0
            stop = start + timedelta(hours=hours) if start else False
            user = scheduler.activity_user_id
            scheduler.m365_availability = Availability._m365_view(
                user.partner_id, start, stop, user or self.env.user
            )

    @api.depends("res_model", "res_ids")
    def _compute_m365_export_enabled(self):
        for scheduler in self:
            records = scheduler._get_applied_on_records() if scheduler.res_model else None
            enabled = False
            if records and scheduler.res_model in ("project.task", "project.project"):
                records = records.sudo().exists()
                projects = records.project_id if records._name == "project.task" else records
                enabled = any(
                    p.m365_export and p.m365_export_available and p.active for p in projects
                )
            scheduler.m365_export_enabled = enabled

    def _action_schedule_activities(self):
        if self.m365_export_enabled and (self.m365_planned_start or self.m365_planned_duration):
            scheduler = self.with_context(
                default_m365_planned_start=self.m365_planned_start,
                default_m365_planned_duration=self.m365_planned_duration,
            )
            return super(MailActivitySchedule, scheduler)._action_schedule_activities()
        return super()._action_schedule_activities()
