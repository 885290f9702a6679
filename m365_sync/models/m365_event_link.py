"""The link between an Odoo record and one Microsoft Graph event — and the personal pull.

Every Outlook appointment that personal sync brings into Odoo is an ordinary
``calendar.event`` plus one ``m365.event.link`` per account it came from (and
every appointment, series or other record the outbox sent to Outlook has one too):
Graph's event id (immutable ids are requested), its iCalUId, the change key Graph
gave last, the series it belongs to, and a digest of the values last written from
Outlook. The same link will carry pushes to Outlook (``pushed_hash``, ``origin``)
and links of exported project activities, which may have no connected account —
hence ``mailbox`` next to ``account_id``.

``_m365_pull`` applies one ``calendarView/delta`` round of one account, using the
plan of ``m365_graph.sync.pull`` (Odoo code never reads Graph JSON):

* new events become appointments owned by and showing for the account's user,
  created with a context that sends no invitation, no alarm notification, and
  keeps Odoo's own calendar integrations (microsoft_calendar, google_calendar)
  and our own upload from sending them back to Outlook (``PULL_CONTEXT``);
* the same meeting seen through two accounts of one user (same iCalUId) is one
  appointment with two links; the user's main account (else the oldest) decides
  its values;
* occurrences of a series arrive as stubs (Graph's real delta shape): they take
  their content from their master (``m365_graph.complete_series``); a series
  master in a later round is the signal that one of its occurrences may have been
  cancelled (Graph reports that only through the master), so its instances are
  read again and what Odoo has of it and they no longer list is re-read;
* ``@removed`` items are re-read before deleting anything, because an event that
  merely left the window is reported exactly like a deleted one; a deleted series
  takes all its occurrences with it, also those outside the window;
* after a full round (first sync, weekly re-baseline, or an expired delta link),
  appointments in the window that Graph did not return are re-read the same way:
  nothing is deleted on a replay, nothing is duplicated.
"""

from collections import Counter
from datetime import datetime, timezone

from odoo import Command, api, fields, models

from m365_graph import (
    LinkState,
    calendar_view_delta,
    complete_series,
    decide_removals,
    plan_pull,
    pull_window,
    read_events,
    window_is_stale,
)
from m365_graph.sync.mirror import MIRROR_CATEGORY
from m365_graph.sync.rules import busy_block

from .common import EVENT_TYPES, naive_utc

#: Graph page size of the personal pull (Prefer: odata.maxpagesize).
PAGE_SIZE = 100

#: Context of every write the pull makes on calendar.event.
PULL_CONTEXT = {
    # Our own upload (Up/Both) must not send pulled appointments back to Outlook.
    "m365_pull": True,
    # Odoo's microsoft_calendar and google_calendar skip their immediate pushes.
    "no_calendar_sync": True,
    # calendar: no invitation e-mails, no alarm set-up notifications, no contact blurb.
    "no_mail_to_attendees": True,
    "dont_notify": True,
    "skip_contact_description": True,
    # mail: no chatter messages, followers or tracking for machine writes.
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "tracking_disable": True,
}


#: Fields binding a row to a mailbox and a person: written by the sync (superuser) only.
OWNERSHIP_FIELDS = frozenset(
    {
        "account_id",
        "user_id",
        "company_id",
        "mailbox",
        "calendar_event_id",
        "graph_event_id",
        "res_model",
        "res_id",
    }
)


class M365EventLink(models.Model):
    _name = "m365.event.link"
    _inherit = ["m365.binding.mixin"]
    _description = "Microsoft 365 Event Link"
    _order = "id"
    _m365_binding_fields = OWNERSHIP_FIELDS
    _rec_name = "graph_event_id"

    account_id = fields.Many2one("m365.account", index=True, ondelete="cascade")
    user_id = fields.Many2one("res.users", index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", index=True)
    mailbox = fields.Char(help="Graph user id of the calendar holding the event.")
    calendar_event_id = fields.Many2one(
        "calendar.event", string="Appointment", index=True, ondelete="cascade"
    )
    graph_event_id = fields.Char(string="Graph event id", required=True)
    ical_uid = fields.Char(string="iCalUId", index=True)
    series_ical_uid = fields.Char(
        string="Series iCalUId",
        index=True,
        help="iCalUId of the series of an occurrence that Graph sent without its own.",
    )
    change_key = fields.Char()
    event_type = fields.Selection(EVENT_TYPES, default="singleInstance")
    series_master_id = fields.Char(index=True)
    original_start = fields.Datetime(help="Start of an occurrence in its series' pattern.")
    remote_modified = fields.Datetime(string="Changed in Outlook")
    pulled_hash = fields.Char(help="Digest of the values last written from Outlook.")
    pushed_hash = fields.Char(help="Digest of the values last sent to Outlook.")
    origin = fields.Selection(
        [("outlook", "Outlook"), ("odoo", "Odoo")], default="outlook", required=True
    )
    # Uploads (m365.outbox): the Odoo record of a link that is not an appointment
    # (a calendar.recurrence for a series, an activity…) and when it was last pushed.
    res_model = fields.Char(string="Odoo model", index=True)
    res_id = fields.Many2oneReference(string="Odoo record", model_field="res_model", index=True)
    synced_at = fields.Datetime(
        string="Last sent to Outlook", help="When Odoo last wrote this event to Outlook."
    )

    _graph_event_uniq = models.Constraint(
        "UNIQUE(account_id, graph_event_id)", "A Graph event is linked once per account."
    )

    # ------------------------------------------------------------------
    # Ownership: which mailbox and which person a row binds, set by the sync alone
    # ------------------------------------------------------------------

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @api.model
    def _m365_links_of(self, records, account=None):
        """Links of ``records`` (appointments by ``calendar_event_id``, others by reference)."""
        if records._name == "calendar.event":
            domain = [("calendar_event_id", "in", records.ids)]
        else:
            domain = [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        if account is not None:
            domain.append(("account_id", "=", account.id))
        return self.sudo().search(domain)

    def _m365_target(self):
        """``(key, account, tenant)`` of the outbox rows that write this link's event.

        ``key`` is ``(writer, account id, mailbox)`` as ``m365.outbox`` groups rows: the
        account's own calendar is ``me``; an event written with the application
        permission has no account.
        """
        self.ensure_one()
        account = self.account_id
        if not account:
            tenant = self.company_id.sudo().m365_tenant_id
            return ("application", False, self.mailbox), account, tenant
        mailbox = "me" if self.mailbox == account.graph_user_id else self.mailbox
        return ("delegated", account.id, mailbox), account, account.tenant_id

    def _m365_pull_env(self):
        """Superuser environment with exactly ``PULL_CONTEXT``.

        A fresh context, not the caller's: "Sync now" is pressed from forms whose
        context carries ``active_model``/``default_*`` keys that calendar.event
        would otherwise turn into a linked document or default values.
        """
        return self.env(context=dict(PULL_CONTEXT), su=True)

    def _m365_leads(self):
        """True when this link decides its appointment's values (main account first)."""
        self.ensure_one()
        links = self.calendar_event_id.sudo().m365_link_ids
        leader = links.sorted(
            lambda link: (
                not link.account_id.is_main,
                link.account_id.sequence,
                link.account_id.id or 0,
                link.id,
            )
        )[:1]
        return leader == self

    def _m365_forget(self, keep_odoo=False):
        """Delete these links, and the appointments no other link keeps. Returns how many.

        ``keep_odoo``: appointments created in Odoo (sent to Outlook by the upload) are
        kept — removing an account must not delete the user's own appointments.
        """
        links = self.filtered(lambda link: link.origin == "outlook") if keep_odoo else self
        events = links.calendar_event_id
        self.unlink()
        orphans = events.exists().filtered(lambda event: not event.sudo().m365_link_ids)
        orphans.with_env(self._m365_pull_env()).unlink()
        return len(orphans)

    @api.model
    def _m365_link_values(self, account, pulled):
        return {
            "account_id": account.id,
            "user_id": account.user_id.id,
            "company_id": account.company_id.id,
            "mailbox": account.graph_user_id,
            "graph_event_id": pulled.graph_id,
            "ical_uid": pulled.ical_uid,
            "series_ical_uid": pulled.series_ical_uid,
            "change_key": pulled.change_key,
            "event_type": pulled.event_type,
            "series_master_id": pulled.series_master_id,
            "original_start": pulled.original_start,
            "remote_modified": naive_utc(pulled.last_modified),
            "pulled_hash": pulled.fingerprint,
            "origin": "outlook",
        }

    @api.model
    def _m365_tag_ids(self, names):
        """``{name: calendar.event.type id}``, creating the tags Odoo does not have yet."""
        names = sorted(set(names))
        if not names:
            return {}
        Tag = self.env["calendar.event.type"].sudo()
        tags = {tag.name: tag.id for tag in Tag.search([("name", "in", names)])}
        missing = [name for name in names if name not in tags]
        if missing:
            tags.update({tag.name: tag.id for tag in Tag.create([{"name": n} for n in missing])})
        return tags

    @api.model
    def _m365_pulled_values(self, owner, pulled):
        """The pulled values under the owner's rule: a private Outlook appointment as a
        "Busy" block without details (``m365_graph.sync.rules.busy_block``)."""
        private = pulled.values.get("privacy") == "private"
        busy = private and owner._m365_private_as_busy()
        values = busy_block(pulled.values, "private" if private else None, private_as_busy=busy)
        return values, (() if busy else pulled.categories)

    @api.model
    def _m365_event_values(self, owner, pulled, tags):
        partner = owner.partner_id
        values, categories = self._m365_pulled_values(owner, pulled)
        return {
            **values,
            "user_id": owner.id,
            "partner_ids": [Command.set(partner.ids)],
            "attendee_ids": [
                Command.create({"partner_id": partner.id, "state": pulled.attendee_state})
            ],
            "categ_ids": [Command.set([tags[name] for name in categories])],
        }

    # ------------------------------------------------------------------
    # Applying a plan
    # ------------------------------------------------------------------
    @api.model
    def _m365_create(self, account, pulled_list, stats):
        if not pulled_list:
            return
        owner = account.user_id
        Link = self.sudo()
        uids = [p.ical_uid for p in pulled_list if p.ical_uid]
        twins = {}
        if uids:
            # One meeting in two mailboxes of the same user: one appointment.
            for link in Link.search(
                [
                    ("user_id", "=", owner.id),
                    ("ical_uid", "in", uids),
                    ("account_id", "!=", account.id),
                    ("calendar_event_id", "!=", False),
                ]
            ):
                twins.setdefault(link.ical_uid, link.calendar_event_id)
        series_uids = [p.series_ical_uid for p in pulled_list if p.series_ical_uid]
        if series_uids:
            # An occurrence Graph sent as a stub has no iCalUId of its own: its series'
            # iCalUId and its original start name it in every mailbox of the meeting.
            for link in Link.search(
                [
                    ("user_id", "=", owner.id),
                    ("series_ical_uid", "in", series_uids),
                    ("account_id", "!=", account.id),
                    ("calendar_event_id", "!=", False),
                ]
            ):
                twins.setdefault(
                    (link.series_ical_uid, link.original_start), link.calendar_event_id
                )

        def twin_key(pulled):
            if pulled.ical_uid:
                return pulled.ical_uid
            if pulled.series_ical_uid and pulled.original_start:
                return (pulled.series_ical_uid, pulled.original_start)
            return None

        tags = self._m365_tag_ids(name for p in pulled_list for name in p.categories)
        # A busy-only mirror block (m365_graph.sync.mirror) is never an Odoo appointment.
        pulled_list = [p for p in pulled_list if MIRROR_CATEGORY not in p.categories]
        new = [p for p in pulled_list if twin_key(p) not in twins]
        Event = self.env["calendar.event"].with_env(self._m365_pull_env())
        events = Event.create([self._m365_event_values(owner, p, tags) for p in new])
        link_values = [
            dict(self._m365_link_values(account, p), calendar_event_id=event.id)
            for p, event in zip(new, events, strict=True)
        ]
        for pulled in pulled_list:
            if twin_key(pulled) in twins:
                link_values.append(
                    dict(
                        self._m365_link_values(account, pulled),
                        calendar_event_id=twins[twin_key(pulled)].id,
                    )
                )
                stats["linked"] += 1
        Link.create(link_values)
        stats["created"] += len(events)

    @api.model
    def _m365_update(self, account, plan, links, stats):
        tags = self._m365_tag_ids(name for p in plan.update for name in p.categories)
        partner = account.user_id.partner_id
        for pulled in plan.update:
            link = links[pulled.graph_id]
            event = link.calendar_event_id.with_env(self._m365_pull_env())
            if event and link._m365_leads():
                values, categories = self._m365_pulled_values(account.user_id, pulled)
                event.write(
                    dict(values, categ_ids=[Command.set([tags[name] for name in categories])])
                )
                attendee = event.attendee_ids.filtered(lambda a: a.partner_id == partner)
                if attendee and attendee.state != pulled.attendee_state:
                    attendee.write({"state": pulled.attendee_state})
                stats["updated"] += 1
            values = self._m365_link_values(account, pulled)
            values.pop("origin")  # an event sent from Odoo stays "from Odoo"
            for name in ("ical_uid", "series_ical_uid"):
                if not values[name]:
                    values.pop(name)  # a delta stub has no iCalUId: keep the one we know
            link.write(values)
        for pulled in plan.refresh:
            # Changed in Outlook, but not in anything Odoo shows: remember the change key.
            links[pulled.graph_id].write(
                {
                    "change_key": pulled.change_key,
                    "remote_modified": naive_utc(pulled.last_modified),
                }
            )

    @api.model
    def _m365_check_removed(self, account, client, links, stats, run):
        """Re-read removal candidates; forget those Graph no longer has. Returns them."""
        gone = self.browse()
        if not links:
            return gone
        known = {
            gid: LinkState(gid, link.change_key, link.pulled_hash) for gid, link in links.items()
        }
        decision = decide_removals(read_events(client, "me", list(links)))
        for graph_id in decision.delete:
            gone |= links[graph_id]
        moved = plan_pull(decision.moved, [], known)
        self._m365_update(account, moved, links, stats)
        for item in moved.skipped + decision.unknown:
            run._m365_count(skipped_reason=f"{item.id}: {item.reason}")
        masters = {link.series_master_id for link in gone if link.series_master_id}
        stats["deleted"] += gone._m365_forget()
        if masters:
            # A deleted series takes its occurrences outside the window with it.
            rest = self.sudo().search(
                [("account_id", "=", account.id), ("series_master_id", "in", list(masters))]
            )
            if rest:
                answers = read_events(client, "me", sorted(masters))
                dead = [master for master, answer in answers.items() if answer is None]
                orphans = rest.filtered(lambda link: link.series_master_id in dead)
                stats["deleted"] += orphans._m365_forget()
        return gone

    @api.model
    def _m365_pull(self, account, client, run):
        """Apply one calendarView delta round of ``account``; return a plain summary."""
        tenant = account.tenant_id
        now = datetime.now(timezone.utc)
        start, end = pull_window(now, tenant.personal_days_back, tenant.personal_days_ahead)
        delta_link = account.delta_link or None
        resume_link = account.resume_link or None
        stored = (account.window_start, account.window_end)
        resized = stored[0] and stored[1] and (stored[1] - stored[0]) != (end - start)
        baseline = (
            not (delta_link or resume_link)
            or resized
            or (not resume_link and window_is_stale(stored[0], now, tenant.personal_days_back))
        )
        if baseline:
            delta_link = resume_link = None
        result = calendar_view_delta(
            client,
            "me",
            start,
            end,
            delta_link=delta_link,
            resume_link=resume_link,
            page_size=PAGE_SIZE,
        )
        full_round = baseline or result.restarted
        # Occurrences come as stubs: their content is their master's. An incremental
        # round re-reads the instances of the series it names (cancellations).
        series = complete_series(client, "me", result.items, start, end, reread=not full_round)
        items = series.items
        Link = self.sudo()
        stats = Counter()
        for item in result.skipped + series.skipped:
            run._m365_count(skipped_reason=f"{item.id or 'item'}: {item.reason}")

        wanted = [e.id for e in items] + [r.id for r in result.removed]
        links = {
            link.graph_event_id: link
            for link in Link.search(
                [("account_id", "=", account.id), ("graph_event_id", "in", wanted)]
            )
        }
        known = {
            gid: LinkState(gid, link.change_key, link.pulled_hash) for gid, link in links.items()
        }
        plan = plan_pull(items, result.removed, known)
        for item in plan.skipped:
            run._m365_count(skipped_reason=f"{item.id}: {item.reason}")
        self._m365_create(account, plan.create, stats)
        self._m365_update(account, plan, links, stats)
        cancelled = Link.browse([links[gid].id for gid in plan.delete])
        stats["deleted"] += cancelled._m365_forget()
        self._m365_check_removed(
            account, client, {gid: links[gid] for gid in plan.verify}, stats, run
        )
        if series.instances:
            # A re-read series lists all its occurrences in the window: those Odoo has
            # and it no longer lists may have been cancelled — re-read, 404 deletes.
            listed = set().union(*(ids or () for ids in series.instances.values()))
            stale = Link.search(
                [
                    ("account_id", "=", account.id),
                    ("series_master_id", "in", list(series.instances)),
                    ("graph_event_id", "not in", list(listed)),
                    ("calendar_event_id.start", "<", naive_utc(end)),
                    ("calendar_event_id.stop", ">=", naive_utc(start)),
                ]
            )
            self._m365_check_removed(
                account, client, {link.graph_event_id: link for link in stale}, stats, run
            )
        if full_round and result.complete:
            # A full round lists everything in the window: what Odoo has there and
            # Graph did not return may be gone — re-read it, never delete on a replay.
            seen = {event.id for event in items}
            unseen = Link.search(
                [
                    ("account_id", "=", account.id),
                    ("graph_event_id", "not in", list(seen)),
                    ("calendar_event_id.start", "<", naive_utc(end)),
                    ("calendar_event_id.stop", ">=", naive_utc(start)),
                ]
            )
            missing = {link.graph_event_id: link for link in unseen}
            self._m365_check_removed(account, client, missing, stats, run)

        values = {}
        if result.complete:
            values.update(delta_link=result.delta_link, resume_link=False)
        else:
            values["resume_link"] = result.next_link
            if baseline:
                values["delta_link"] = False
        if full_round:
            values.update(window_start=naive_utc(start), window_end=naive_utc(end))
        account.write(values)
        run._m365_count(
            created=stats["created"], updated=stats["updated"], deleted=stats["deleted"]
        )
        return self._m365_summary(stats, result, run)

    @api.model
    def _m365_summary(self, stats, result, run):
        parts = []
        if stats["created"]:
            parts.append(self.env._("%(count)s created", count=stats["created"]))
        if stats["updated"]:
            parts.append(self.env._("%(count)s updated", count=stats["updated"]))
        if stats["deleted"]:
            parts.append(self.env._("%(count)s deleted", count=stats["deleted"]))
        if stats["linked"]:
            parts.append(
                self.env._("%(count)s already in Odoo from another account", count=stats["linked"])
            )
        if run.skipped:
            parts.append(self.env._("%(count)s skipped", count=run.skipped))
        text = ", ".join(parts) or self.env._("No change")
        if result.restarted:
            text += self.env._(
                ". Microsoft 365 had expired the saved sync state: the calendar was read again"
            )
        if not result.complete:
            text += self.env._(
                ". Interrupted (%(error)s); the next run continues where this one stopped",
                error=result.error,
            )
        return text + "."
