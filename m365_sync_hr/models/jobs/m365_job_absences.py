"""Absences down (``m365.job``): Outlook out-of-office time → time off requests.

One unit per tenant (``{"tenant": id}``) with *Outlook absences to time off
requests* on. It reads no Graph itself: the busy-time import (``m365.job.busy``)
already brings every employee's Outlook busy time, out-of-office included, into
``m365.busy.slot`` — where it already counts in the workload capacity — and this
job turns the slots that are all-day or longer than the tenant's threshold
(``m365_graph.sync.absences.absence_candidates``) into time off requests (state
*To Approve*) for the employee's manager. Never a validated leave.

Idempotent and never doubled: a request remembers its Outlook event id
(``hr.leave.m365_outlook_event_id``; every occurrence of a recurring series has
its own), so a second run creates nothing; an absence overlapping time off the
employee already has (Odoo's own exported leaves included: category *Odoo*) is
left alone; a request Odoo refuses (no allocation, overlapping leave) is skipped
and named on the run, the others go on.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from m365_graph.core.types import BusySlot
from m365_graph.sync.absences import absence_candidates

LOCK_CLASS = 365_012
#: How far ahead Outlook absences are turned into requests.
HORIZON = timedelta(days=90)


class M365JobAbsences(models.AbstractModel):
    _name = "m365.job.absences"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: Outlook absences to time off requests"

    _m365_job_kind = "absences"
    _m365_lock_class = LOCK_CLASS

    @api.model
    def _m365_units(self, due_only=True):
        tenants = (
            self.env["m365.tenant"]
            .sudo()
            .search([("hr_absence_import", "=", True), ("hr_absence_leave_type_id", "!=", False)])
        )
        units = [{"tenant": tenant.id} for tenant in tenants]
        return [u for u in units if not due_only or self._m365_unit_due(u)]

    @api.model
    def _m365_unit_identity(self, unit):
        return f"absences:{unit['tenant']}"

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_CLASS, unit["tenant"]

    @api.model
    def _m365_unit_scope(self, unit):
        return {"tenant": self.env["m365.tenant"].sudo().browse(unit["tenant"])}

    @api.model
    def _m365_unit_active(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"]).exists()
        return bool(tenant and tenant.active and tenant.hr_absence_import)

    @api.model
    def _m365_unit_due(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        last = self._m365_last_run(unit)
        interval = timedelta(minutes=max(10, tenant.busy_interval_minutes or 15))
        return not last or last.start + interval <= fields.Datetime.now()

    @api.model
    def _m365_slot(self, slot):
        return BusySlot(
            event_id=slot.event_id,
            start=slot.start,
            end=slot.stop,
            show_as=slot.show_as,
            categories=tuple(c.strip() for c in (slot.categories or "").split(",") if c.strip()),
            is_all_day=slot.all_day,
        )

    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        leave_type = tenant.hr_absence_leave_type_id
        if not leave_type:
            run._m365_fail(self.env._("Choose the time off type of requests from Outlook first."))
            return
        now = fields.Datetime.now()
        slots = (
            self.env["m365.busy.slot"]
            .sudo()
            .search(
                [
                    ("company_id", "=", tenant.company_id.id),
                    ("show_as", "=", "oof"),
                    ("stop", ">", now),
                    ("start", "<", now + HORIZON),
                ],
                order="start, id",
            )
        )
        by_id = {}
        for slot in slots:
            by_id.setdefault(slot.event_id, slot)
        threshold = timedelta(hours=max(0.0, tenant.hr_absence_threshold_hours))
        wanted = absence_candidates([self._m365_slot(s) for s in by_id.values()], threshold)
        Leave = self.env["hr.leave"].sudo().with_context(m365_no_push=True, mail_notrack=True)
        known = set(
            Leave.with_context(active_test=False)
            .search([("m365_outlook_event_id", "in", [c.event_id for c in wanted])])
            .mapped("m365_outlook_event_id")
        )
        created = 0
        for candidate in wanted:
            slot = by_id[candidate.event_id]
            if candidate.event_id in known:
                continue
            employee = slot.user_id.employee_ids.filtered(
                lambda e, c=tenant.company_id: e.company_id == c
            )[:1]
            if not employee:
                continue
            first = slot.start.date()
            # All-day ends are exclusive midnights; a timed absence covers its days.
            last = (
                (slot.stop - timedelta(microseconds=1)).date() if slot.all_day else slot.stop.date()
            )
            last = max(first, last)
            overlapping = Leave.search_count(
                [
                    ("employee_id", "=", employee.id),
                    ("state", "not in", ("refuse", "cancel")),
                    ("request_date_from", "<=", last),
                    ("request_date_to", ">=", first),
                ]
            )
            if overlapping:
                continue
            try:
                with self.env.cr.savepoint():
                    Leave.create(
                        {
                            "employee_id": employee.id,
                            "holiday_status_id": leave_type.id,
                            "request_date_from": first,
                            "request_date_to": last,
                            "m365_outlook_event_id": candidate.event_id,
                            "private_name": self.env._("Out of office in Outlook"),
                        }
                    )
                created += 1
            except (ValidationError, UserError) as exc:
                run._m365_count(
                    skipped_reason=self.env._(
                        "%(employee)s, %(first)s to %(last)s: %(why)s",
                        employee=employee.name,
                        first=first,
                        last=last,
                        why=getattr(exc, "args", [exc])[0],
                    )
                )
        run._m365_count(created=created)
        run._m365_done(
            self.env._(
                "%(count)s time off request(s) created from Outlook absences.", count=created
            )
        )
