"""Automatic replies (``m365.job``): scheduled for time off, and read back as absences.

One unit per tenant (``{"tenant": id}``) with *Schedule automatic replies* or
*Outlook absences to time off requests* on, every busy-time interval. It reads the
automatic replies of every employee's mailbox (``mailboxSettings``, ``$batch`` of
20, application permission) and then:

* **up** (*Schedule automatic replies*): the employee's current or next validated
  time off schedules the replies for its period
  (``m365_graph.sync.absences.plan_auto_replies``); a schedule Odoo set that no
  longer matches a leave is switched off; replies the employee set in Outlook
  are never replaced or switched off. What Odoo scheduled is remembered on the
  employee (``m365_auto_reply_key``), so nothing is sent twice;
* **down** (*Outlook absences to time off requests*): replies scheduled in
  Outlook (not by Odoo) become a time off request *To Approve* for the period —
  once (``hr.leave.m365_outlook_event_id`` = ``autoreply:<period>``), never over
  time off the employee already has.

Not through the outbox: this job reconciles the wanted state on every run, so a
run that meets an unavailable Graph just leaves it for the next run.
"""

from datetime import timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from m365_graph import GraphError
from m365_graph.resources.mailbox_settings import read_auto_replies, set_auto_replies
from m365_graph.sync.absences import AutoReplies, plan_auto_replies

# Advisory lock class of its tenant units: 365_013 is m365_sync_queue's app-wide cap
# (its slots are small integers, like tenant ids), so it must not be used here.
LOCK_CLASS = 365_016
UTC = timezone.utc


class M365JobAutoReplies(models.AbstractModel):
    _name = "m365.job.auto_replies"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: automatic replies"

    _m365_job_kind = "auto_replies"
    _m365_lock_class = LOCK_CLASS
    _m365_budget = {"max_wait": 45.0, "max_failures": 6}

    @api.model
    def _m365_units(self, due_only=True):
        tenants = (
            self.env["m365.tenant"]
            .sudo()
            .search(["|", ("hr_auto_replies", "=", True), ("hr_absence_import", "=", True)])
        )
        units = [{"tenant": t.id} for t in tenants.filtered("is_configured")]
        return [u for u in units if not due_only or self._m365_unit_due(u)]

    @api.model
    def _m365_unit_identity(self, unit):
        return f"auto_replies:{unit['tenant']}"

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_CLASS, unit["tenant"]

    @api.model
    def _m365_unit_scope(self, unit):
        return {"tenant": self.env["m365.tenant"].sudo().browse(unit["tenant"])}

    @api.model
    def _m365_unit_active(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"]).exists()
        return bool(
            tenant and tenant.active and (tenant.hr_auto_replies or tenant.hr_absence_import)
        )

    @api.model
    def _m365_unit_due(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        last = self._m365_last_run(unit)
        interval = timedelta(minutes=max(10, tenant.busy_interval_minutes or 15))
        return not last or last.start + interval <= fields.Datetime.now()

    @api.model
    def _m365_mailboxes(self, tenant):
        employees = (
            self.env["hr.employee"].sudo().search([("company_id", "=", tenant.company_id.id)])
        )
        out = {}
        for employee in employees:
            mailbox = (employee.user_id.email or employee.work_email or "").strip().lower()
            if mailbox:
                out.setdefault(mailbox, employee)
        return out

    @api.model
    def _m365_wanted(self, employees):
        """``{employee id: (start, end)}``: the current or next validated time off."""
        now = fields.Datetime.now()
        leaves = (
            self.env["hr.leave"]
            .sudo()
            .search(
                [
                    ("employee_id", "in", employees.ids),
                    ("state", "=", "validate"),
                    ("date_to", ">", now),
                    ("m365_outlook_event_id", "=", False),
                ],
                order="date_from",
            )
        )
        out = {}
        for leave in leaves:
            out.setdefault(
                leave.employee_id.id,
                (leave.date_from.replace(tzinfo=UTC), leave.date_to.replace(tzinfo=UTC)),
            )
        return out

    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        mailboxes = self._m365_mailboxes(tenant)
        client = tenant._m365_graph_client()
        client.budget = self._m365_new_budget()
        problems, scheduled, requested = [], 0, 0
        with client as graph:
            current = read_auto_replies(graph, list(mailboxes))
            readable = {}
            for mailbox, replies in current.items():
                if isinstance(replies, GraphError):
                    problems.append(f"{mailboxes[mailbox].name}: {replies}")
                else:
                    readable[mailbox] = replies
            if tenant.hr_auto_replies:
                scheduled = self._m365_schedule(tenant, graph, mailboxes, readable, problems)
        if tenant.hr_absence_import and tenant.hr_absence_leave_type_id:
            requested = self._m365_requests(tenant, mailboxes, readable, run)
        run._m365_add_stats(client.counters.snapshot())
        run._m365_count(created=requested, updated=scheduled)
        summary = self.env._(
            "%(read)s mailbox(es) read, %(scheduled)s automatic reply schedule(s) changed, "
            "%(requested)s time off request(s) from automatic replies.",
            read=len(readable),
            scheduled=scheduled,
            requested=requested,
        )
        if problems and not readable:
            run._m365_fail("\n".join([summary, *problems[:20]]))
            return
        for problem in problems[:50]:
            run._m365_count(skipped_reason=problem)
        run._m365_done(summary)

    @api.model
    def _m365_schedule(self, tenant, graph, mailboxes, readable, problems):
        employees = self.env["hr.employee"].sudo().browse([e.id for e in mailboxes.values()])
        wanted = self._m365_wanted(employees)
        changes, keys = [], {}
        message = tenant.hr_auto_reply_message or ""
        for mailbox, replies in readable.items():
            employee = mailboxes[mailbox]
            window = wanted.get(employee.id)
            action = plan_auto_replies(replies, window, employee.m365_auto_reply_key or None)
            if action == "schedule":
                changes.append((mailbox, window, message))
                keys[mailbox] = AutoReplies("scheduled", *window).key
            elif action == "disable":
                changes.append((mailbox, None, ""))
                keys[mailbox] = False
        done = 0
        for mailbox, error in set_auto_replies(graph, changes).items():
            if error is not None:
                problems.append(f"{mailboxes[mailbox].name}: {error}")
                continue
            mailboxes[mailbox].m365_auto_reply_key = keys[mailbox]
            done += 1
        return done

    @api.model
    def _m365_requests(self, tenant, mailboxes, readable, run):
        Leave = self.env["hr.leave"].sudo().with_context(m365_no_push=True, mail_notrack=True)
        now = fields.Datetime.now().replace(tzinfo=UTC)
        created = 0
        for mailbox, replies in readable.items():
            employee = mailboxes[mailbox]
            key = replies.key
            if not key or key == employee.m365_auto_reply_key or replies.end <= now:
                continue  # not scheduled, Odoo's own, or over
            ident = f"autoreply:{key}"
            if Leave.search_count(
                [("m365_outlook_event_id", "=", ident), ("employee_id", "=", employee.id)]
            ):
                continue
            first = replies.start.date()
            last = max(first, (replies.end - timedelta(microseconds=1)).date())
            if Leave.search_count(
                [
                    ("employee_id", "=", employee.id),
                    ("state", "not in", ("refuse", "cancel")),
                    ("request_date_from", "<=", last),
                    ("request_date_to", ">=", first),
                ]
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    Leave.create(
                        {
                            "employee_id": employee.id,
                            "holiday_status_id": tenant.hr_absence_leave_type_id.id,
                            "request_date_from": first,
                            "request_date_to": last,
                            "m365_outlook_event_id": ident,
                            "private_name": self.env._("Automatic replies in Outlook"),
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
                        why=exc.args[0] if exc.args else exc,
                    )
                )
        return created
