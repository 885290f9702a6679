"""Projects: the "Third-party systems" tab and its Outlook export switch.

A project manager switches *Export activities to Outlook* on for a project; from
then on, activities scheduled on its tasks (and on the project itself) go to
their assignee's Outlook calendar (``mail_activity.py``). The options say which
activity types go, how long an activity without planned duration lasts (no thin
slots), whether done activities stay in Outlook (marked done) and whether
switching the export off removes the events still to come.

The company's switch (Settings → Microsoft 365 → *Project activities to Outlook*)
comes first: while it is off nothing is exported, whatever the projects say.
Switching a project on again, changing an option, archiving or restoring the
project brings the events of its activities in line (through the outbox).
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from m365_graph.sync.activities import DEFAULT_DURATION_HOURS, MAX_DURATION_HOURS

#: Project fields whose change re-sends (or removes) the events of its activities.
EXPORT_FIELDS = frozenset(
    {
        "m365_export",
        "m365_export_type_ids",
        "m365_export_default_duration",
        "m365_export_keep_done",
        "active",
        "name",
    }
)


class ProjectProject(models.Model):
    _inherit = "project.project"

    m365_export = fields.Boolean(
        string="Export activities to Outlook",
        copy=False,
        tracking=True,
        help="Activities scheduled from now on, on the tasks of this project and on the "
        "project itself, appear in their assignee's Outlook calendar with their planned "
        "start and duration. Activities that exist already are not sent.",
    )
    m365_export_type_ids = fields.Many2many(
        "mail.activity.type",
        "m365_project_export_activity_type_rel",
        "project_id",
        "type_id",
        string="Activity types",
        help="Only activities of these types are sent to Outlook. Empty: all types.",
    )
    m365_export_default_duration = fields.Float(
        string="Default duration",
        default=DEFAULT_DURATION_HOURS,
        help="How long the Outlook event of an activity without planned duration lasts "
        "(hours), so that no activity becomes a thin slot.",
    )
    m365_export_keep_done = fields.Boolean(
        string="Keep done activities",
        help="Done activities stay in Outlook, marked “Done:” and shown as free. Off: "
        "marking an activity done removes its event.",
    )
    m365_export_remove_future = fields.Boolean(
        string="Remove future events when switched off",
        help="Switching the export off also removes from Outlook the events of this "
        "project's activities that are still to come. Off: they stay as they are.",
    )
    m365_export_available = fields.Boolean(
        string="Activity export available",
        compute="_compute_m365_export_available",
        help="The company's Microsoft 365 settings allow project activities in Outlook.",
    )

    _m365_export_duration = models.Constraint(
        f"CHECK(m365_export_default_duration > 0 AND "
        f"m365_export_default_duration <= {MAX_DURATION_HOURS})",
        "The default duration of an activity in Outlook is more than 0 and at most 24 hours.",
    )

    @api.depends("company_id")
    def _compute_m365_export_available(self):
        fallback = self.env.company.sudo().m365_tenant_id
        for project in self:
            tenant = project.sudo().company_id.m365_tenant_id or fallback
            project.m365_export_available = bool(tenant.active and tenant.project_export)

    @api.constrains("m365_export")
    def _check_m365_export(self):
        for project in self.filtered("m365_export"):
            if not project.m365_export_available:
                raise ValidationError(
                    self.env._(
                        "Activities of %(project)s cannot be exported to Outlook: switch on "
                        "“Project activities to Outlook” in Settings → Microsoft 365 first.",
                        project=project.display_name,
                    )
                )

    def write(self, vals):
        relevant = EXPORT_FIELDS.intersection(vals)
        switched_off = (
            self.filtered(lambda p: p.m365_export) if vals.get("m365_export") is False else None
        )
        result = super().write(vals)
        if relevant:
            activities = self.with_context(active_test=False)._m365_activities()
            if switched_off:
                projects = activities._m365_projects()
                off = activities.filtered(lambda a: projects.get(a.id) in switched_off)
                off.filtered(lambda a: projects[a.id].m365_export_remove_future)._m365_export_sync(
                    removal="future"
                )
                activities -= off
            activities._m365_export_sync()
            activities._m365_schedule_workload()
        return result

    def _m365_activities(self):
        """The Outlook activities of these projects and of their tasks (archived too)."""
        Activity = self.env["mail.activity"].sudo().with_context(active_test=False)
        tasks = (
            self.env["project.task"]
            .sudo()
            .with_context(active_test=False)
            .search([("project_id", "in", self.ids)])
        )
        return Activity.search(
            [
                ("m365_export", "=", True),
                "|",
                "&",
                ("res_model", "=", "project.project"),
                ("res_id", "in", self.ids),
                "&",
                ("res_model", "=", "project.task"),
                ("res_id", "in", tasks.ids),
            ]
        )
