"""Tasks: archiving, moving or renaming a task updates its activities in Outlook.

Deleting a task deletes its activities (Odoo does it through the ORM), which
removes their events (``mail_activity.py``). Archiving the task, or moving it to
a project that does not export, removes the events still to come; restoring it
or moving it back sends them again. The task's name is in the event's body (the
link back to Odoo), so a new name updates the events.
"""

from odoo import models

TASK_FIELDS = frozenset({"active", "project_id", "name"})


class ProjectTask(models.Model):
    _inherit = "project.task"

    def write(self, vals):
        result = super().write(vals)
        if TASK_FIELDS.intersection(vals):
            activities = (
                self.env["mail.activity"]
                .sudo()
                .with_context(active_test=False)
                .search(
                    [
                        ("m365_export", "=", True),
                        ("res_model", "=", self._name),
                        ("res_id", "in", self.ids),
                    ]
                )
            )
            if activities:
                activities._m365_export_sync(removal="future")
                activities._m365_schedule_workload()
        return result
