"""Time off ↔ Outlook: validated leaves go up as Away events; Outlook absences come
down as time off requests.

Why this file exists: a validated ``hr.leave`` should block the employee's Outlook
calendar (show-as ``oof``, category ``Odoo``), and disappear when it is refused or
cancelled, without anybody copying it by hand. Every change that can change the
event — state, dates, half day or hours, employee, type — queues the difference
in the same transaction, through the outbox (``m365.hr.writer``): created once
(``transactionId``), updated in place when the leave is edited after its export
(If-Match), deleted when it is no longer validated, coalesced when several
changes come before a drain (validated then refused before the drain sends
nothing). The body is ``m365_graph.sync.absences.absence_payload``: whole days on
the leave's own dates in the employee's zone (a leave across a DST change keeps
its days), half days and hours on the employee's wall clock.

Time off requests created from Outlook (``m365_outlook_event_id``, see
``m365.job.absences``) are never sent back: they came from an Outlook event.
"""

from odoo import api, fields, models

from m365_graph.sync.absences import Absence, absence_payload

#: Fields whose change can change the leave's Outlook event.
LEAVE_FIELDS = frozenset(
    {
        "state",
        "date_from",
        "date_to",
        "request_date_from",
        "request_date_to",
        "request_unit_half",
        "request_unit_hours",
        "request_date_from_period",
        "request_date_to_period",
        "employee_id",
        "holiday_status_id",
    }
)


class HrLeave(models.Model):
    _name = "hr.leave"
    _inherit = ["hr.leave", "m365.hr.writer"]

    m365_outlook_event_id = fields.Char(
        string="From Outlook event",
        readonly=True,
        copy=False,
        index=True,
        help="This request was created from an Outlook out-of-office appointment.",
    )
    m365_outlook_state = fields.Char(
        string="Outlook", compute="_compute_m365_outlook_state", compute_sudo=True
    )

    def _compute_m365_outlook_state(self):
        Link = self.env["m365.event.link"].sudo()
        Outbox = self.env["m365.outbox"].sudo()
        linked = set(
            Link.search([("res_model", "=", self._name), ("res_id", "in", self.ids)]).mapped(
                "res_id"
            )
        )
        rows = {
            item.res_id: item
            for item in Outbox.search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        }
        for leave in self:
            item = rows.get(leave.id)
            if item and item.state == "failed":
                leave.m365_outlook_state = self.env._("Not sent: %(error)s", error=item.last_error)
            elif item:
                leave.m365_outlook_state = self.env._("Waiting to be sent")
            elif leave.id in linked:
                leave.m365_outlook_state = self.env._("In Outlook")
            else:
                leave.m365_outlook_state = False

    # ------------------------------------------------------------------
    # ORM: queue the differences
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        leaves = super().create(vals_list)
        if not self._m365_push_disabled():
            leaves._m365_queue_absences()
        return leaves

    def write(self, vals):
        result = super().write(vals)
        if not self._m365_push_disabled() and LEAVE_FIELDS.intersection(vals):
            self.exists()._m365_queue_absences()
        return result

    def unlink(self):
        entries = [] if self._m365_push_disabled() else self._m365_absence_entries(gone=True)
        result = super().unlink()
        self.env["m365.outbox"]._m365_enqueue(entries)
        return result

    # ------------------------------------------------------------------
    # What to send
    # ------------------------------------------------------------------
    def _m365_absence_wanted(self):
        self.ensure_one()
        tenant = self.employee_id.sudo().company_id.m365_tenant_id
        return bool(
            self.state == "validate"
            and not self.m365_outlook_event_id
            and tenant.hr_absence_export
            and tenant.active
        )

    def _m365_absence(self):
        """The plain values of this leave's Outlook event."""
        self.ensure_one()
        employee = self.employee_id.sudo()
        tenant = employee.company_id.m365_tenant_id
        subject = self.env._("Out of office")
        if tenant.hr_absence_show_type and self.holiday_status_id:
            subject = self.holiday_status_id.name
        zone = employee.tz or employee.user_id.tz or None
        # Half days (Odoo 19: a half-day type, a period other than morning → afternoon)
        # and hours are timed; whole days are all-day on the leave's own dates.
        partial = self.request_unit_half and (
            self.request_date_from_period != "am" or self.request_date_to_period != "pm"
        )
        if self.request_unit_hours or partial:
            return Absence(
                all_day=False,
                start=self.date_from,
                stop=self.date_to,
                time_zone=zone,
                subject=subject,
            )
        return Absence(
            all_day=True,
            first_day=self.request_date_from or self.date_from.date(),
            last_day=self.request_date_to or self.date_to.date(),
            time_zone=zone,
            subject=subject,
        )

    def _m365_absence_entries(self, gone=False):
        leaves = self.sudo().with_context(active_test=False)
        if not leaves:
            return []
        Link = self.env["m365.event.link"].sudo()
        links = Link.search([("res_model", "=", self._name), ("res_id", "in", leaves.ids)])
        by_leave = {link.res_id: link for link in links}
        targets = self._m365_hr_targets(leaves.employee_id)
        entries = []
        for leave in leaves:
            link = by_leave.get(leave.id, Link)
            target = leave._m365_target_of_link(link) if link else targets.get(leave.employee_id.id)
            if target is None:
                continue  # no way to write this employee's calendar: nothing was sent
            if gone or not leave._m365_absence_wanted():
                # Without a link this cancels a creation still waiting in the outbox.
                entries.append(leave._m365_hr_entry("delete", target, link))
                continue
            try:
                built = absence_payload(leave._m365_absence())
            except ValueError:
                continue
            entries.append(
                leave._m365_hr_entry("update" if link else "create", target, link, built)
            )
        return entries

    def _m365_queue_absences(self):
        self.env["m365.outbox"]._m365_enqueue(self._m365_absence_entries())

    # ------------------------------------------------------------------
    # Hooks of the drain
    # ------------------------------------------------------------------
    def _m365_link_user(self, item):
        return self.employee_id.user_id or super()._m365_link_user(item)
