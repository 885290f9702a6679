"""Who writes an employee's HR events to Outlook, and the outbox rows they make.

Why this file exists: time off and work-location events go to the *employee's*
Outlook calendar, through the outbox of ``m365_sync`` (nothing is lost while
Microsoft Graph is down; rows are coalesced; a ``transactionId`` per record and
calendar never doubles an event). The writer is chosen once for both:

1. the employee's user's main account when it uploads (Up, Up and Down):
   delegated, calendar ``me``;
2. else the tenant's application permission ``Calendars.ReadWrite`` (unless the
   last *Test connection* showed it missing), on the employee's mailbox: the
   user's main account address, else the user's e-mail, else the employee's work
   e-mail;
3. else nothing is sent, and the record says why.

An event keeps the writer that created it while it exists (its link's target),
so updates and deletions go where the event is.
"""

from odoo import api, models

from m365_graph.sync.push import BuiltPayload


class M365HrWriter(models.AbstractModel):
    _name = "m365.hr.writer"
    _inherit = ["m365.push.mixin"]
    _description = "Microsoft 365: writer of HR events"

    @api.model
    def _m365_app_writes(self, tenant):
        if not (tenant and tenant.active and tenant.is_configured):
            return False
        tenant = tenant.sudo()
        if tenant.connection_state in ("ok", "missing"):
            roles = {role.strip() for role in (tenant.granted_roles or "").split(",")}
            return "Calendars.ReadWrite" in roles
        return True

    @api.model
    def _m365_hr_targets(self, employees):
        """``{employee id: (writer, account, tenant, mailbox)}``; absent: no way to write."""
        employees = employees.sudo()
        accounts = self._m365_upload_accounts(employees.user_id)
        out = {}
        for employee in employees:
            user = employee.user_id
            account = accounts.get(user.id) if user else None
            if account:
                out[employee.id] = ("delegated", account, account.tenant_id, "me")
                continue
            tenant = (user.company_id or employee.company_id).m365_tenant_id
            mailbox = (user.email if user else None) or employee.work_email
            if mailbox and self._m365_app_writes(tenant):
                out[employee.id] = ("application", self.env["m365.account"], tenant, mailbox)
        return out

    def _m365_target_of_link(self, link):
        (writer, _account_id, mailbox), account, tenant = link._m365_target()
        return writer, account, tenant, mailbox

    def _m365_hr_entry(self, operation, target, link, built: BuiltPayload | None = None):
        self.ensure_one()
        writer, account, tenant, mailbox = target
        entry = {
            "res_model": self._name,
            "res_id": self.id,
            "res_name": self.display_name,
            "operation": operation,
            "writer": writer,
            "account_id": account.id or False,
            "tenant_id": tenant.id,
            "company_id": (account.company_id or tenant.company_id).id,
            "user_id": (account.user_id or self.env.user).id,
            "mailbox": mailbox,
            "link": link,
            "transaction_id": self.env["m365.outbox"]._m365_transaction_id(
                self._name, self.id, f"{writer}/{account.id or ''}/{mailbox}"
            ),
        }
        if operation == "delete" and link:
            entry["graph_event_id"] = link.graph_event_id
        if built is not None:
            entry.update(
                payload=built.payload,
                payload_hash=built.hash,
                notes="\n".join(built.warnings) or False,
            )
        return entry
