"""Work location → Outlook: one all-day *Working elsewhere* event per stretch of days.

Why this file exists: ``hr_homeworking`` gives every employee a work location per
day (a default per weekday, and exceptions on given dates). Colleagues planning a
meeting in Outlook should see who works from home or from another office, but
one event per day would flood calendars. Each record here is one *stretch* —
consecutive days at the same place that is not the company's default location —
and is one Outlook event (show-as ``workingElsewhere``, "Remote work" or
"Office: <name>", category ``Odoo``), sent through the outbox like every other
upload. ``_m365_refresh`` recomputes the stretches of employees whose locations
changed (and the daily job rolls the window forward): a longer or shorter stretch
is an update of the same event, a stretch that no longer exists is deleted, and
nothing is written when nothing changed. Stretches already over are left alone.
"""

from datetime import timedelta

from odoo import api, fields, models

from m365_graph.sync.absences import location_payload, stretches

DAYS = (
    "monday_location_id",
    "tuesday_location_id",
    "wednesday_location_id",
    "thursday_location_id",
    "friday_location_id",
    "saturday_location_id",
    "sunday_location_id",
)


class M365WorkLocationEvent(models.Model):
    _name = "m365.work.location.event"
    _inherit = ["m365.hr.writer"]
    _description = "Microsoft 365: work location stretch in Outlook"
    _order = "employee_id, first_day"

    employee_id = fields.Many2one(
        "hr.employee", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="employee_id.company_id", store=True, index=True)
    first_day = fields.Date(required=True, readonly=True)
    last_day = fields.Date(required=True, readonly=True)
    location_id = fields.Many2one("hr.work.location", required=True, readonly=True)
    subject = fields.Char(readonly=True)

    @api.depends("employee_id", "subject", "first_day", "last_day")
    def _compute_display_name(self):
        for record in self:
            record.display_name = (
                f"{record.employee_id.name}: {record.subject} "
                f"({record.first_day} to {record.last_day})"
            )

    # ------------------------------------------------------------------
    # Recomputing the stretches
    # ------------------------------------------------------------------
    @api.model
    def _m365_days(self, employees, first, last):
        """``{employee id: [(day, location id, kind, name)]}`` for ``first``..``last``."""
        exceptions = {}
        for item in (
            self.env["hr.employee.location"]
            .sudo()
            .search(
                [("employee_id", "in", employees.ids), ("date", ">=", first), ("date", "<=", last)]
            )
        ):
            exceptions[(item.employee_id.id, item.date)] = item.work_location_id
        out = {}
        span = (last - first).days + 1
        for employee in employees:
            days = []
            for offset in range(span):
                day = first + timedelta(days=offset)
                location = exceptions.get((employee.id, day)) or employee[DAYS[day.weekday()]]
                days.append((day, location.id or None, location.location_type, location.name))
            out[employee.id] = days
        return out

    @api.model
    def _m365_refresh(self, employees):
        """Make the stretches of ``employees`` (from today on) match their locations."""
        Event = self.sudo()
        employees = employees.sudo().exists()
        today = fields.Date.context_today(self)
        entries = []
        by_tenant = employees.grouped(lambda e: e.company_id.m365_tenant_id)
        for tenant, group in by_tenant.items():
            if not (tenant and tenant.active and tenant.hr_location_export):
                continue
            last = today + timedelta(days=max(1, tenant.hr_location_days) - 1)
            days = self._m365_days(group, today, last)
            targets = self._m365_hr_targets(group)
            existing = Event.search(
                [("employee_id", "in", group.ids), ("last_day", ">=", today - timedelta(days=1))]
            ).grouped("employee_id")
            default = tenant.hr_default_location_id.id or None
            for employee in group:
                wanted = stretches(days[employee.id], default)
                entries += self._m365_apply(
                    employee, wanted, existing.get(employee, Event), today, targets
                )
        self.env["m365.outbox"]._m365_enqueue(entries)

    @api.model
    def _m365_apply(self, employee, wanted, current, today, targets):
        Link = self.env["m365.event.link"].sudo()
        zone = employee.tz or employee.user_id.tz or None
        entries = []
        left = set(current.ids)
        for stretch in wanted:
            record = current.filtered(
                lambda r, s=stretch: (
                    r.id in left
                    and r.location_id.id == s.location_id
                    and (
                        r.first_day == s.first
                        # A stretch that began before today continues today.
                        or (
                            s.first == today
                            and r.first_day < today <= r.last_day + timedelta(days=1)
                        )
                    )
                )
            )[:1]
            first = record.first_day if record and stretch.first == today else stretch.first
            values = {
                "first_day": min(first, stretch.first),
                "last_day": stretch.last,
                "location_id": stretch.location_id,
                "subject": stretch.subject,
            }
            if record:
                left.discard(record.id)
                changes = {
                    k: v
                    for k, v in values.items()
                    if (record[k].id if k == "location_id" else record[k]) != v
                }
                if not changes:
                    continue
                record.write(changes)
            else:
                record = self.sudo().create({**values, "employee_id": employee.id})
            link = Link.search(
                [("res_model", "=", self._name), ("res_id", "=", record.id)], limit=1
            )
            target = record._m365_target_of_link(link) if link else targets.get(employee.id)
            if target is None:
                continue
            built = location_payload(
                stretch.__class__(
                    values["first_day"],
                    stretch.last,
                    stretch.kind,
                    stretch.place,
                    stretch.location_id,
                ),
                zone,
            )
            entries.append(
                record._m365_hr_entry("update" if link else "create", target, link, built)
            )
        gone = current.browse(sorted(left)).filtered(lambda r: r.last_day >= today)
        entries += gone._m365_delete_entries()
        gone.with_context(m365_no_push=True).unlink()
        return entries

    def _m365_delete_entries(self):
        Link = self.env["m365.event.link"].sudo()
        targets = self._m365_hr_targets(self.employee_id)
        entries = []
        for record in self.sudo():
            link = Link.search(
                [("res_model", "=", self._name), ("res_id", "=", record.id)], limit=1
            )
            target = (
                record._m365_target_of_link(link) if link else targets.get(record.employee_id.id)
            )
            if target is not None:
                entries.append(record._m365_hr_entry("delete", target, link))
        return entries

    def unlink(self):
        entries = [] if self._m365_push_disabled() else self._m365_delete_entries()
        result = super().unlink()
        self.env["m365.outbox"]._m365_enqueue(entries)
        return result

    def _m365_link_user(self, item):
        return self.employee_id.user_id or super()._m365_link_user(item)
