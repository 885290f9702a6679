"""An Odoo recurrence is one Outlook series.

Why this file exists: Odoo keeps a recurring appointment as a ``calendar.recurrence``
(the rule) and one ``calendar.event`` per occurrence; Outlook keeps a series master
(``patternedRecurrence``) and computes the occurrences. Sending every occurrence
as an event of its own would flood the calendar and lose the series (the known
failure of Odoo's own Outlook sync on recurrence edits), so the rule is sent once,
as a series whose first occurrence is the recurrence's base appointment, in the
user's time zone (Windows name) so that daylight-saving changes keep the hour.

After each push of a series its occurrences are read back (``/instances``) and
linked to the Odoo appointments by their original start, so that:

* an occurrence edited alone in Odoo ("This event") updates its own Outlook
  occurrence, and one deleted alone cancels it;
* the personal pull recognises the occurrences it reads as the appointments Odoo
  already has, and changes nothing (no echo, no duplicates);
* occurrences deleted in Odoo before the series first reached Outlook are cancelled
  there too.

Editing "This and following events" makes Odoo end the recurrence and start a new
one: the first series is shortened (PATCH of its range) and the second is created.
Editing "All events" updates the series, or — when Odoo rebuilds the recurrence —
replaces it.
"""

from datetime import datetime, time, timedelta

from odoo import api, fields, models

from m365_graph import Recurrence, build_payload
from m365_graph.core.errors import BadResponse
from m365_graph.sync.pull import map_event
from m365_graph.sync.recurrence import WEEKDAY_FIELDS

from .common import naive_utc

#: Fields of the rule that change the Outlook series.
RULE_FIELDS = frozenset(
    {
        "rrule_type",
        "interval",
        "end_type",
        "count",
        "until",
        "month_by",
        "day",
        "weekday",
        "byday",
        "base_event_id",
        "event_tz",
        "rrule",
        *WEEKDAY_FIELDS,
    }
)


class CalendarRecurrence(models.Model):
    _name = "calendar.recurrence"
    _inherit = ["calendar.recurrence", "m365.push.mixin"]

    @api.model_create_multi
    def create(self, vals_list):
        recurrences = super().create(vals_list)
        if not self._m365_push_disabled():
            recurrences._m365_queue()
        return recurrences

    def write(self, vals):
        result = super().write(vals)
        if not self._m365_push_disabled() and RULE_FIELDS.intersection(vals):
            self.exists()._m365_queue()
        return result

    def unlink(self):
        entries = []
        if not self._m365_push_disabled():
            for recurrence in self.sudo():
                for link in self.env["m365.event.link"]._m365_links_of(recurrence):
                    if link.account_id:
                        entries.append(
                            recurrence._m365_outbox_entry("delete", link.account_id, link=link)
                        )
        result = super().unlink()
        self.env["m365.outbox"]._m365_enqueue(entries)
        return result

    # ------------------------------------------------------------------
    # What to send
    # ------------------------------------------------------------------
    def _m365_base_event(self):
        self.ensure_one()
        events = self.calendar_event_ids
        return self.base_event_id or events.sorted("start")[:1]

    def _m365_rule(self, base):
        """The rule as ``m365_graph.Recurrence`` values (``None`` if Odoo's is unusable)."""
        self.ensure_one()
        weekdays = frozenset(day for day in WEEKDAY_FIELDS if self[day])
        if self.rrule_type == "weekly" and not weekdays:
            weekdays = frozenset({WEEKDAY_FIELDS[base.start.weekday()]})
        try:
            return Recurrence(
                rrule_type=self.rrule_type,
                interval=max(self.interval, 1),
                end_type=self.end_type or "forever",
                count=max(self.count, 1),
                until=self.until or None,
                weekdays=weekdays,
                month_by=self.month_by or "date",
                day=self.day or base.start.day,
                weekday=self.weekday or None,
                byday=self.byday or None,
            )
        except ValueError:
            return None

    def _m365_queue(self):
        recurrences = self.sudo().exists()
        bases = {rec.id: rec._m365_base_event() for rec in recurrences}
        users = self.env["res.users"].browse(b.user_id.id for b in bases.values() if b)
        accounts = self._m365_upload_accounts(users)
        Link = self.env["m365.event.link"]
        entries = []
        for recurrence in recurrences:
            base = bases[recurrence.id]
            account = accounts.get(base.user_id.id) if base else None
            if not account:
                continue
            link = Link._m365_links_of(recurrence, account)[:1]
            if not link and base.m365_link_ids.filtered(
                lambda lk, account=account: lk.account_id != account and lk.origin == "outlook"
            ):
                continue  # came from another account
            if not base._m365_rule_allows(series=True).get(base.id, True):
                # Left out by the organiser's privacy or upload rule: a series Odoo sent
                # is deleted from Outlook once (the deletion drops its link).
                if link and link.origin == "odoo":
                    entries.append(recurrence._m365_outbox_entry("delete", account, link=link))
                continue
            rule = recurrence._m365_rule(base)
            if rule is None:
                continue
            appointment = base._m365_appointment(account, recurrence=rule)
            built = build_payload(appointment, send_invitations=account.send_invitations)
            if not link:
                # The appointment was sent alone before it became recurring: the series
                # replaces that stand-alone Outlook event.
                for single in base.m365_link_ids.filtered(
                    lambda lk, account=account: (
                        lk.account_id == account
                        and lk.origin == "odoo"
                        and lk.event_type == "singleInstance"
                    )
                ):
                    entries.append(base._m365_outbox_entry("delete", account, link=single))
            entries.append(
                recurrence._m365_outbox_entry(
                    "update" if link else "create", account, built, link=link
                )
            )
        self.env["m365.outbox"]._m365_enqueue(entries)

    # ------------------------------------------------------------------
    # Hooks of the drain
    # ------------------------------------------------------------------
    def _m365_series_window(self):
        """The span of Outlook occurrences to read back: the appointments Odoo has, with
        a day of margin before and two after (``None`` when none is left)."""
        self.ensure_one()
        events = self.calendar_event_ids.filtered("active")
        if not events:
            return None
        low = datetime.combine(min(events.mapped("start")).date(), time(0)) - timedelta(days=1)
        high = datetime.combine(max(events.mapped("stop")).date(), time(0)) + timedelta(days=2)
        return low, high

    def _m365_apply_remote(self, link, event):
        """Outlook's series won a conflict: its title, place and notes go to every occurrence."""
        try:
            values = map_event(event).values
        except BadResponse:
            return
        shared = {k: values[k] for k in ("name", "location", "description", "show_as")}
        self.calendar_event_ids.with_context(m365_pull=True, no_calendar_sync=True).write(
            dict(shared, recurrence_update="self_only")
        )

    def _m365_link_occurrences(self, master, instances, account, created=False):
        """Link the Odoo appointments of this series to Outlook's occurrences.

        ``instances``: the series' occurrences the drain read (``$batch``) in
        :meth:`_m365_series_window`. Matches by original start; changed appointments
        (moved in Odoo) take the remaining occurrences in order and are queued to be
        written to them. Odoo side only (no Graph call): returns the ids of the
        occurrences Odoo no longer has (deleted before the series reached Outlook),
        which the drain cancels.
        """
        self.ensure_one()
        events = self.calendar_event_ids.filtered("active").sorted("start")
        if not events:
            return []
        by_start = {}
        for instance in instances:
            if events[0].allday:
                # All-day occurrences float: their start date is the day, in any zone.
                key = ((instance.raw.get("start") or {}).get("dateTime") or "")[:10]
            else:
                key = (instance.raw.get("originalStart") or "")[:16]
            by_start.setdefault(key, instance)

        def key_of(event):
            if event.allday:
                return event.start_date.isoformat()
            return event.start.strftime("%Y-%m-%dT%H:%M")

        pairs, moved = [], []
        for event in events:
            instance = by_start.pop(key_of(event), None) if event.follow_recurrence else None
            if instance is None:
                moved.append(event)
            else:
                pairs.append((event, instance))
        leftovers = sorted(by_start.values(), key=lambda i: i.raw.get("originalStart") or "")
        for event in moved:
            if leftovers:
                pairs.append((event, leftovers.pop(0)))
        Link = self.env["m365.event.link"].sudo()
        existing = {
            link.graph_event_id: link
            for link in Link.search(
                [("account_id", "=", account.id), ("series_master_id", "=", master.graph_event_id)]
            )
        }
        stale = Link.search(
            [
                ("account_id", "=", account.id),
                ("calendar_event_id", "in", events.ids),
                ("event_type", "in", ("occurrence", "exception")),
                ("origin", "=", "odoo"),
                ("series_master_id", "!=", master.graph_event_id),
            ]
        )
        stale.unlink()
        now = fields.Datetime.now()
        linked = {}
        for event, instance in pairs:
            try:
                fingerprint = map_event(instance).fingerprint
            except BadResponse:
                fingerprint = False
            values = {
                "account_id": account.id,
                "user_id": account.user_id.id,
                "company_id": account.company_id.id,
                "mailbox": master.mailbox,
                "calendar_event_id": event.id,
                "res_model": "calendar.event",
                "res_id": event.id,
                "graph_event_id": instance.id,
                "ical_uid": instance.ical_uid,
                "change_key": instance.change_key,
                "event_type": instance.event_type or "occurrence",
                "series_master_id": master.graph_event_id,
                "original_start": _original_start(instance),
                "remote_modified": naive_utc(instance.last_modified),
                "pulled_hash": fingerprint,
                "origin": "odoo",
                "synced_at": now,
            }
            link = existing.pop(instance.id, None)
            if link:
                link.write(values)
            else:
                link = Link.create(values)
            linked[event.id] = link
        for link in existing.values():
            if link.calendar_event_id not in events:
                link.unlink()
        # Changed occurrences (moved or edited in Odoo) are written to their occurrence.
        changed = [event for event, _instance in pairs if not event.follow_recurrence]
        entries = [
            event._m365_update_entry(account, linked[event.id], "update") for event in changed
        ]
        self.env["m365.outbox"]._m365_enqueue(entries)
        # Occurrences Odoo does not have, inside the span Odoo materialised, were
        # deleted in Odoo before the series reached Outlook: cancel them.
        last = max(events.mapped("start"))
        return [
            instance.id
            for instance in leftovers
            if created and (_original_start(instance) or last) <= last
        ]


def _original_start(instance):
    text = instance.raw.get("originalStart")
    if not text:
        return False
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return naive_utc(moment)
