"""Activities of exporting projects go to the assignee's Outlook calendar.

An activity scheduled on a task of a project whose *Export activities to Outlook*
switch is on (the Third-party systems tab of the project form), or on such a project
itself, gets a planned start and a planned duration and becomes an event in the
assignee's Outlook calendar. Nothing talks to Graph here: every change queues an
``m365.outbox`` row in the same transaction (the outbox of Up and Both: coalescing,
batching, ``transactionId``, ``If-Match``, retries), and the event is linked to the
activity by ``m365.event.link`` like any pushed record.

* Only activities created while their project exports are flagged ``m365_export``:
  those that existed before the switch was turned on are never sent.
* Who writes (``m365_graph.sync.activities.choose_writer``): the assignee's own main
  account in Up or Both (delegated, their own calendar); else the tenant's
  application permission; else the assigner's delegated access to the assignee's
  calendar shared with them (``Calendars.ReadWrite.Shared``). With none, nothing is
  queued, the activity says why, and the assigner is told on the record's chatter.
  An event stays with the writer that created it while it is in the same calendar.
* Reschedule, edit, reassign (deleted from the old calendar, created in the new),
  done (deleted — or kept, marked done, when the project keeps done activities),
  cancel (deleted). Archiving or deleting the task, archiving the project, moving
  the task out of it, or switching the export off with "remove future events"
  delete the events that are still to come; past ones stay in Outlook as history.
* A refusal that cannot get better (403: a permission missing, or a calendar not
  shared for writing) fails the outbox row at once: the activity shows "Not
  exported: …" and the assigner is told; nothing is retried until the activity
  changes again or someone presses Retry.
* A deleted Outlook event is created again at the activity's next change (the
  outbox's rule for updates answered 404); until then the activity keeps saying it
  is in Outlook, as Odoo cannot know without asking.
* The planned hours feed ``m365.workload.day``; the activity's own Outlook event
  is recognised by its Graph id and left out of the busy time.
"""

from collections import defaultdict
from datetime import timedelta
from urllib.parse import urlencode

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_datetime

from m365_graph import (
    ActivityEvent,
    WriterFacts,
    activity_payload,
    choose_writer,
    planned_window,
    working_day_start,
)
from m365_graph.sync.activities import APPLICATION, NO_MAILBOX, OWN

from .common import is_utc_zone

#: Models whose activities may be exported.
EXPORT_MODELS = ("project.task", "project.project")
#: Fields whose change can change the Outlook event (or whether there is one).
PUSH_FIELDS = frozenset(
    {
        "summary",
        "note",
        "date_deadline",
        "user_id",
        "activity_type_id",
        "m365_planned_start",
        "m365_planned_duration",
        "active",
        "res_id",
        "res_model_id",
        "res_model",
    }
)
EXPORT_STATES = [
    ("none", "Not for Outlook"),
    ("waiting", "Waiting to be sent"),
    ("exported", "In Outlook"),
    ("failed", "Not exported"),
]
#: What becomes of the event of an activity that should no longer be in Outlook.
REMOVE_ALL, REMOVE_FUTURE, REMOVE_NONE = "all", "future", "none"


class MailActivity(models.Model):
    _name = "mail.activity"
    _inherit = ["mail.activity", "m365.push.mixin"]

    m365_planned_start = fields.Datetime(
        string="Planned start",
        help="When the work is planned. Empty: the due date at the assignee's working-day "
        "start. The Outlook event starts then.",
    )
    m365_planned_duration = fields.Float(
        string="Planned duration",
        help="How long the work takes (hours). Empty: the project's default duration. "
        "The Outlook event lasts that long (at most 24 hours).",
    )
    m365_export = fields.Boolean(
        string="For Outlook",
        readonly=True,
        copy=False,
        help="Scheduled while its project exported activities to Outlook. Activities "
        "that existed before the export was switched on are never sent.",
    )
    m365_assigner_id = fields.Many2one(
        "res.users",
        string="Assigned by",
        readonly=True,
        copy=False,
        help="Who last assigned the activity; told when it cannot be put in Outlook.",
    )
    m365_export_error = fields.Text(readonly=True, copy=False)
    m365_export_enabled = fields.Boolean(
        string="Project exports to Outlook",
        compute="_compute_m365_export_enabled",
        help="The activity's record is a task of, or is, a project exporting activities.",
    )
    m365_export_state = fields.Selection(
        EXPORT_STATES, string="Outlook", compute="_compute_m365_export_status"
    )
    m365_export_status = fields.Text(string="Outlook export", compute="_compute_m365_export_status")
    m365_outlook_when = fields.Char(
        string="In Outlook",
        compute="_compute_m365_outlook_when",
        help="When the Outlook event of this activity starts and ends (in your time zone): "
        "the planned start, else the due date at the assignee's working-day start.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("res_model", "res_id")
    def _compute_m365_export_enabled(self):
        projects = self._m365_projects()
        for activity in self:
            project = projects.get(activity.id) or self.env["project.project"]
            activity.m365_export_enabled = bool(
                project and project.m365_export and project.m365_export_available
            )

    @api.depends_context("uid")
    def _compute_m365_export_status(self):
        ids = [activity.id for activity in self if isinstance(activity.id, int)]
        rows = (
            self.env["m365.outbox"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", ids),
                    ("state", "in", ("pending", "failed")),
                ],
                order="id desc",
            )
            .grouped("res_id")
        )
        links = self.env["m365.event.link"]._m365_links_of(self.browse(ids)).grouped("res_id")
        for activity in self:
            state, text = "none", False
            items = rows.get(activity.id, ())
            failed = [item for item in items if item.state == "failed"]
            link = links.get(activity.id)
            sudo = activity.sudo()
            if not sudo.m365_export:
                text = self.env._("Not sent to Outlook (created before the project exported).")
            elif sudo.m365_export_error:
                state, text = "failed", sudo.m365_export_error
            elif failed:
                state = "failed"
                text = self.env._("Not exported: %(error)s", error=failed[0].last_error)
            elif items:
                state = "waiting"
                text = self.env._("Waiting to be sent to Outlook.")
                if items[0].last_error:
                    text += " " + self.env._(
                        "Last try: %(error)s (tried again automatically).",
                        error=items[0].last_error,
                    )
            elif link:
                state = "exported"
                text = self.env._(
                    "In Outlook (last sent %(when)s).",
                    when=format_datetime(self.env, link[:1].synced_at, dt_format="short")
                    if link
                    else "",
                )
            activity.m365_export_state = state
            activity.m365_export_status = text

    @api.depends("m365_planned_start", "m365_planned_duration", "date_deadline", "user_id")
    @api.depends_context("tz")
    def _compute_m365_outlook_when(self):
        exported = self.filtered(lambda a: isinstance(a.id, int) and a.sudo().m365_export)
        (self - exported).m365_outlook_when = False
        if not exported:
            return
        sudo = exported.sudo()
        windows = sudo._m365_windows(sudo._m365_projects())
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        for activity in exported:
            window = windows.get(activity.id)
            if window is None:
                activity.m365_outlook_when = False
                continue
            text = self.env._(
                "%(start)s to %(stop)s",
                start=format_datetime(self.env, window.start, tz=tz, dt_format="short"),
                stop=format_datetime(self.env, window.stop, tz=tz, dt_format="short"),
            )
            if is_utc_zone(activity.user_id.tz):
                text += " " + self.env._(
                    "(the assignee's time zone is UTC: set their own in their preferences, "
                    "or the event starts at UTC working hours)"
                )
            activity.m365_outlook_when = text

    def _to_store_defaults(self, target):
        # The chatter shows when the Outlook event is and how its export went.
        return [*super()._to_store_defaults(target), "m365_outlook_when", "m365_export_status"]

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        activities = super().create(vals_list)
        if self._m365_push_disabled():
            return activities
        exporting = activities._m365_exporting()
        if exporting:
            exporting.sudo().with_context(m365_no_push=True).write(
                {"m365_export": True, "m365_assigner_id": self.env.uid}
            )
            exporting._m365_export_sync()
            exporting._m365_schedule_workload()
        return activities

    def write(self, vals):
        if self._m365_push_disabled() or not PUSH_FIELDS.intersection(vals):
            return super().write(vals)
        if vals.get("user_id"):
            vals = dict(vals, m365_assigner_id=self.env.uid)
        flagged = self.sudo().with_context(active_test=False).filtered("m365_export")
        if "date_deadline" in vals and "m365_planned_start" not in vals:
            # Rescheduling (the chatter's "Tomorrow", "Next week"…) moves a planned
            # start by as many days as the due date moved.
            moved = flagged.filtered("m365_planned_start")
            new = fields.Date.to_date(vals["date_deadline"])
            shifts = {a.id: new - a.date_deadline for a in moved if new and a.date_deadline}
        else:
            shifts = {}
        flagged._m365_schedule_workload()
        result = super().write(vals)
        for activity in flagged.filtered(lambda a: shifts.get(a.id)):
            activity.with_context(m365_no_push=True).write(
                {"m365_planned_start": activity.m365_planned_start + shifts[activity.id]}
            )
        flagged = flagged.exists()
        flagged._m365_export_sync()
        flagged._m365_schedule_workload()
        return result

    def unlink(self):
        entries = []
        flagged = self.sudo().with_context(active_test=False).filtered("m365_export")
        if flagged and not self._m365_push_disabled():
            entries = flagged._m365_export_entries(deleting=True)
            flagged._m365_schedule_workload()
        result = super().unlink()
        self.env["m365.outbox"]._m365_enqueue(entries)
        return result

    # ------------------------------------------------------------------
    # Which records export
    # ------------------------------------------------------------------
    def _m365_projects(self):
        """``{activity id: project}`` of the exportable records (archived ones too)."""
        out = {}
        by_model = defaultdict(set)
        for activity in self:
            if activity.res_model in EXPORT_MODELS and activity.res_id:
                by_model[activity.res_model].add(activity.res_id)
        if not by_model:
            return out
        env = self.env(su=True, context=dict(self.env.context, active_test=False))
        tasks = env["project.task"].browse(by_model.get("project.task", ())).exists()
        task_project = {task.id: task.project_id for task in tasks}
        projects = env["project.project"].browse(by_model.get("project.project", ())).exists()
        project_of = {project.id: project for project in projects}
        for activity in self:
            if activity.res_model == "project.task":
                project = task_project.get(activity.res_id)
            elif activity.res_model == "project.project":
                project = project_of.get(activity.res_id)
            else:
                project = None
            if project:
                out[activity.id] = project
        return out

    def _m365_exporting(self):
        """The activities whose record is in an exporting project right now."""
        projects = self._m365_projects()
        return self.filtered(
            lambda a: (
                a.id in projects
                and projects[a.id].m365_export
                and projects[a.id].active
                and projects[a.id].m365_export_available
            )
        )

    def _m365_record(self):
        self.ensure_one()
        return self.env[self.res_model].sudo().with_context(active_test=False).browse(self.res_id)

    def _m365_removal(self, project, removal, deleting):
        """``None`` when the activity belongs in Outlook, else what to remove."""
        if deleting:
            # A done activity kept in Outlook stays there as history; the rest goes.
            return REMOVE_FUTURE if not self.active else REMOVE_ALL
        if not project:
            return REMOVE_FUTURE  # the task left its project, or the record is gone
        if not project.m365_export:
            return removal or REMOVE_NONE  # switched off: nothing is sent any more
        if not project.m365_export_available:
            return REMOVE_NONE  # the company's activity export is off: nothing is sent
        record = self._m365_record()
        if not project.active or not record.exists() or not record.active:
            return REMOVE_FUTURE
        types = project.m365_export_type_ids
        if types and self.activity_type_id not in types:
            return REMOVE_FUTURE
        if not self.user_id:
            return REMOVE_ALL
        if not self.active and not project.m365_export_keep_done:
            return REMOVE_ALL
        return None

    # ------------------------------------------------------------------
    # Where and what to send
    # ------------------------------------------------------------------
    def _m365_windows(self, projects):
        """``{activity id: PlannedWindow}`` (``None`` when there is no date at all)."""
        users = self.user_id
        setups = self.env["m365.workload.day"]._m365_user_setup(users.sudo()) if users else {}
        starts = {}
        out = {}
        for activity in self:
            user = activity.user_id
            setup = setups.get(user.id) or {}
            calendar = setup.get("calendar")
            day_start = None
            if not activity.m365_planned_start and activity.date_deadline and calendar:
                key = (calendar.id, activity.date_deadline.weekday())
                if key not in starts:
                    starts[key] = working_day_start(
                        activity.date_deadline,
                        [
                            (int(att.dayofweek), att.hour_from)
                            for att in calendar.attendance_ids
                            if not att.display_type
                        ],
                    )
                day_start = starts[key]
            project = projects.get(activity.id)
            try:
                out[activity.id] = planned_window(
                    deadline=activity.date_deadline or None,
                    planned_start=activity.m365_planned_start or None,
                    duration_hours=activity.m365_planned_duration or None,
                    default_hours=project.m365_export_default_duration if project else None,
                    time_zone=user.tz or None,
                    day_start=day_start,
                )
            except ValueError:
                out[activity.id] = None
        return out

    def _m365_mailbox_facts(self, tenant_of):
        """``{user id: (mailbox or None, {calendar identities})}`` of the assignees."""
        users = self.user_id.sudo()
        accounts = (
            self.env["m365.account"]
            .sudo()
            .search([("user_id", "in", users.ids), ("graph_user_id", "!=", False)])
        )
        by_user = accounts.grouped("user_id")
        out = {}
        for user in users:
            tenant = tenant_of.get(user.id)
            own = by_user.get(user, self.env["m365.account"])
            identities = {a.graph_user_id.lower() for a in own}
            partner = user.partner_id
            if partner.m365_user_id:
                identities.add(partner.m365_user_id.lower())
            addresses = {a.strip().lower() for a in (user.email, user.login) if a and "@" in a}
            identities |= addresses
            mailbox = None
            if tenant:
                mine = own.filtered(lambda a, t=tenant: a.tenant_id == t)
                main = mine.filtered("is_main")[:1] or mine[:1]
                if main:
                    mailbox = main.graph_user_id
                elif partner.m365_user_id and partner.sudo().m365_tenant_id == tenant:
                    mailbox = partner.m365_user_id
                elif user.email and "@" in user.email:
                    # Graph resolves a user principal name itself (/users/{upn}).
                    mailbox = user.email.strip().lower()
            out[user.id] = (mailbox, identities)
        return out

    @api.model
    def _m365_shared_accounts(self, users):
        """``{user id: account}``: main accounts that may write calendars shared with them."""
        if not users:
            return {}
        accounts = (
            self.env["m365.account"]
            .sudo()
            .search([("user_id", "in", users.ids), ("is_main", "=", True)])
        )
        return {a.user_id.id: a for a in accounts if a._m365_can_write_shared()}

    @staticmethod
    def _m365_app_allowed(tenant):
        """The tenant's application permission may be used (not known to be missing)."""
        if not (tenant and tenant.active and tenant.project_export and tenant.is_configured):
            return False
        tenant = tenant.sudo()
        if tenant.connection_state in ("ok", "missing"):
            roles = {role.strip() for role in (tenant.granted_roles or "").split(",")}
            return "Calendars.ReadWrite" in roles
        return True  # never tested: try, a 403 says what is missing

    def _m365_targets(self, links):
        """``{activity id: (key, account, tenant) or error text}``.

        ``key`` is the outbox target ``(writer, account id, mailbox)``. An event stays
        with the writer that created it while it is still in the assignee's calendar.
        """
        env = self.env
        users = self.user_id
        tenant_of = {}
        for user in users:
            tenant = user.sudo().company_id.m365_tenant_id
            if tenant.active and tenant.is_configured:
                tenant_of[user.id] = tenant
        mailboxes = self._m365_mailbox_facts(tenant_of)
        uploads = self._m365_upload_accounts(users)
        assigners = self.mapped(lambda a: a.m365_assigner_id or env.user)
        shared = self._m365_shared_accounts(assigners)
        out = {}
        for activity in self:
            user = activity.user_id
            mailbox, identities = mailboxes.get(user.id, (None, set()))
            link = links.get(activity.id)
            if link and link.mailbox and link.mailbox.lower() in identities:
                out[activity.id] = link._m365_target()
                continue
            tenant = tenant_of.get(user.id)
            assigner = activity.m365_assigner_id or env.user
            choice = choose_writer(
                WriterFacts(
                    assignee_uploads=user.id in uploads,
                    app_allowed=self._m365_app_allowed(tenant),
                    assigner_shared=assigner.id in shared,
                    assignee_mailbox=mailbox,
                    same_person=assigner == user,
                )
            )
            if choice.writer == OWN:
                account = uploads[user.id]
                out[activity.id] = (("delegated", account.id, "me"), account, account.tenant_id)
            elif choice.writer == APPLICATION:
                out[activity.id] = (("application", False, mailbox), env["m365.account"], tenant)
            elif choice.ok:
                account = shared[assigner.id]
                out[activity.id] = (("delegated", account.id, mailbox), account, account.tenant_id)
            elif not tenant:
                out[activity.id] = env._(
                    "Not exported: %(company)s is not connected to Microsoft 365.",
                    company=user.sudo().company_id.name,
                )
            elif choice.reason == NO_MAILBOX:
                out[activity.id] = env._(
                    "Not exported: %(user)s has no Microsoft 365 mailbox (no connected "
                    "account, no directory contact, no e-mail address).",
                    user=user.name,
                )
            else:
                out[activity.id] = env._(
                    "Not exported: writing to the Outlook calendar of %(user)s needs their own "
                    "Microsoft 365 account connected in Up or Up and Down, the application "
                    "permission Calendars.ReadWrite (admin consent), or the delegated permission "
                    "Calendars.ReadWrite.Shared of %(assigner)s on a calendar %(user)s shared "
                    "with them for writing.",
                    user=user.name,
                    assigner=assigner.name,
                )
        return out

    def _m365_event(self, window):
        """The plain values of this activity's event (``m365_graph.ActivityEvent``)."""
        self.ensure_one()
        base = self.get_base_url()
        query = urlencode({"model": self.res_model, "res_id": self.res_id})
        return ActivityEvent(
            summary=self.summary or None,
            activity_type=self.activity_type_id.name or None,
            note=self.note or None,
            record_name=self.res_name or None,
            record_url=f"{base}/mail/view?{query}",
            start=window.start,
            stop=window.stop,
            time_zone=window.time_zone,
            done=not self.active,
        )

    def _m365_entry(self, operation, target, link, built=None, warnings=()):
        """One outbox row: ``target`` is ``(key, account, tenant)``."""
        self.ensure_one()
        (writer, account_id, mailbox), account, tenant = target
        entry = {
            "res_model": self._name,
            "res_id": self.id,
            "res_name": self.display_name,
            "operation": operation,
            "writer": writer,
            "account_id": account_id,
            "tenant_id": tenant.id,
            "company_id": (account.company_id or tenant.company_id).id,
            "user_id": (self.m365_assigner_id or self.env.user).id,
            "mailbox": mailbox,
            "link": link,
            "transaction_id": self.env["m365.outbox"]._m365_transaction_id(
                self._name, self.id, f"{writer}/{account_id or ''}/{mailbox}"
            ),
        }
        if operation == "delete" and link:
            entry["graph_event_id"] = link.graph_event_id
        if built is not None:
            entry.update(
                payload=built.payload,
                payload_hash=built.hash,
                notes="\n".join((*warnings, *built.warnings)) or False,
            )
        return entry

    def _m365_export_entries(self, removal=None, deleting=False):
        """The outbox rows that bring Outlook in line with these activities.

        Also records (and tells the assigner) why an activity cannot be exported.
        """
        activities = self.sudo().with_context(active_test=False).filtered("m365_export")
        if not activities:
            return []
        Outbox = self.env["m365.outbox"].sudo()
        links = {
            link.res_id: link
            for link in self.env["m365.event.link"]._m365_links_of(activities)
            if link.res_id
        }
        pending = Outbox.search(
            [
                ("res_model", "=", self._name),
                ("res_id", "in", activities.ids),
                ("state", "in", ("pending", "failed")),
            ]
        ).grouped("res_id")
        projects = activities._m365_projects()
        removals = {
            a.id: a._m365_removal(projects.get(a.id), removal, deleting) for a in activities
        }
        wanted = activities.filtered(lambda a: removals[a.id] is None)
        windows = wanted._m365_windows(projects)
        targets = wanted._m365_targets(links)
        now = fields.Datetime.now()
        entries, errors = [], {}
        for activity in activities:
            link = links.get(activity.id)
            link_key = link._m365_target()[0] if link else None
            current = {}
            if link:
                current[link_key] = link._m365_target()
            for row in pending.get(activity.id, Outbox):
                current.setdefault(row._m365_target()[0], row._m365_target())
            removal_kind = removals[activity.id]
            target = targets.get(activity.id)
            window = windows.get(activity.id)
            if removal_kind is None and window is None:
                target = self.env._("Not exported: the activity has no due date.")
            if removal_kind is not None or isinstance(target, str):
                if removal_kind == REMOVE_NONE:
                    continue
                if removal_kind == REMOVE_FUTURE and not activity._m365_in_future(now):
                    continue
                if isinstance(target, str):
                    errors[activity.id] = target
                elif not activity.user_id and not deleting:
                    errors[activity.id] = self.env._("Not exported: nobody is assigned.")
                for key, old in current.items():
                    old_link = link if key == link_key else None
                    entries.append(activity._m365_entry("delete", old, old_link))
                continue
            errors[activity.id] = False
            key = target[0]
            for other, old in current.items():
                if other != key:
                    old_link = link if other == link_key else None
                    entries.append(activity._m365_entry("delete", old, old_link))
            same_link = link if link_key == key else None
            built = activity_payload(activity._m365_event(window))
            operation = "update" if same_link else "create"
            entries.append(
                activity._m365_entry(operation, target, same_link, built, window.warnings)
            )
        activities._m365_record_errors(errors)
        return entries

    def _m365_export_sync(self, removal=None):
        """Queue what brings Outlook in line with these activities (same transaction)."""
        entries = self._m365_export_entries(removal=removal)
        self.env["m365.outbox"]._m365_enqueue(entries)

    def _m365_in_future(self, now):
        """True while the activity's planned time has not ended (due today counts)."""
        self.ensure_one()
        if self.m365_planned_start:
            hours = max(self.m365_planned_duration or 0.0, 0.0)
            return self.m365_planned_start + timedelta(hours=hours) > now
        return bool(self.date_deadline) and self.date_deadline >= now.date()

    def _m365_record_errors(self, errors):
        """Store why activities cannot be exported; tell the assigner of new reasons."""
        changed = self.filtered(
            lambda a: a.id in errors and (a.m365_export_error or False) != errors[a.id]
        )
        by_error = defaultdict(list)
        for activity in changed:
            by_error[errors[activity.id]].append(activity.id)
        for error, ids in by_error.items():
            self.browse(ids).with_context(m365_no_push=True).write({"m365_export_error": error})
        for activity in changed.filtered(lambda a: errors[a.id] and a.user_id):
            activity._m365_tell_assigner(errors[activity.id])

    def _m365_tell_assigner(self, message):
        """A note on the record's chatter for the assigner (their inbox notifies them)."""
        self.ensure_one()
        assigner = self.m365_assigner_id or self.env.user
        record = self._m365_record()
        if not record.exists() or not hasattr(record, "message_post"):
            assigner._m365_set_notice(message, "warning")
            return
        record.with_context(mail_notify_author=True).message_post(
            body=self.env._(
                "The activity “%(activity)s” of %(user)s is not in their Outlook calendar. "
                "%(reason)s",
                activity=self.display_name,
                user=self.user_id.name or self.env._("nobody"),
                reason=message,
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=assigner.partner_id.ids,
        )

    # ------------------------------------------------------------------
    # Workload (m365.workload.day: planned hours)
    # ------------------------------------------------------------------
    def _m365_schedule_workload(self):
        """Recompute the workload days these activities touch (before the commit)."""
        activities = self.filtered(lambda a: a.m365_export and a.user_id)
        if not activities:
            return
        days = []
        for activity in activities:
            moment = activity.m365_planned_start
            days.append(moment.date() if moment else activity.date_deadline)
        days = [d for d in days if d]
        if days:
            self.env["m365.workload.day"]._m365_schedule_recompute(
                users=activities.user_id,
                date_from=min(days) - timedelta(days=1),
                date_to=max(days) + timedelta(days=1),
            )

    @api.model
    def _m365_planned_intervals(self, user_ids, first, last):
        """``{user id: [(start, stop)]}`` of the open exported activities around the days."""
        low = fields.Datetime.to_datetime(first) - timedelta(days=2)
        high = fields.Datetime.to_datetime(last) + timedelta(days=3)
        activities = self.sudo().search(
            [
                ("user_id", "in", list(user_ids)),
                ("m365_export", "=", True),
                "|",
                "&",
                ("m365_planned_start", ">=", low),
                ("m365_planned_start", "<", high),
                "&",
                ("m365_planned_start", "=", False),
                "&",
                ("date_deadline", ">=", low.date()),
                ("date_deadline", "<", high.date()),
            ]
        )
        projects = activities._m365_projects()
        wanted = activities.filtered(
            lambda a: a._m365_removal(projects.get(a.id), None, False) is None
        )
        windows = wanted._m365_windows(projects)
        out = defaultdict(list)
        for activity in wanted:
            window = windows.get(activity.id)
            if window is not None:
                out[activity.user_id.id].append((window.start, window.stop))
        return out

    # ------------------------------------------------------------------
    # Hooks of the outbox drain
    # ------------------------------------------------------------------
    def _m365_link_user(self, item):
        # The event is in the assignee's calendar: the link is theirs.
        return self.user_id or super()._m365_link_user(item)

    def _m365_push_failed(self, items):
        """A row Outlook refused for good: tell each activity's assigner on the record."""
        by_activity = {item.res_id: item for item in items}
        for activity in self.sudo().with_context(active_test=False):
            item = by_activity.get(activity.id)
            if item and item.operation != "delete":
                activity._m365_tell_assigner(
                    self.env._("Not exported: %(error)s", error=item.last_error)
                )

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_m365_export_retry(self):
        """Try to put these activities in Outlook again (after a permission was fixed)."""
        activities = self.sudo().with_context(active_test=False).filtered("m365_export")
        if not activities:
            raise UserError(
                self.env._("These activities were not scheduled for Outlook: nothing to retry.")
            )
        self.check_access("write")
        failed = (
            self.env["m365.outbox"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", activities.ids),
                    ("state", "=", "failed"),
                ]
            )
        )
        failed.unlink()
        activities.with_context(m365_no_push=True).write({"m365_export_error": False})
        activities._m365_export_sync()
        return True
