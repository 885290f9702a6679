"""Helpers of the upload (outbox) tests: a user with an Up-and-Down main account."""

from datetime import datetime, time, timedelta, timezone

from .common import ADELE, PersonalSyncMixin

UTC = timezone.utc


def day(days, hour=9, minute=0):
    """A naive UTC datetime ``days`` from today at ``hour`` (Odoo's convention)."""
    base = datetime.now(UTC).date() + timedelta(days=days)
    return datetime.combine(base, time(hour, minute))


class OutboxMixin(PersonalSyncMixin):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user.tz = "Europe/Brussels"
        cls.other_user.tz = "Europe/Brussels"

    def setUp(self):
        super().setUp()
        self.account = self.connect(ADELE, direction="both")
        self.sandbox.log.clear()
        self.sandbox.state.sent_meeting_mail.clear()

    # -- Odoo side --------------------------------------------------------------

    def appointment(self, name="Customer call", start=None, hours=1.0, user=None, **values):
        start = start or day(2)
        vals = {
            "name": name,
            "start": start,
            "stop": start + timedelta(hours=hours),
            **values,
        }
        return self.env["calendar.event"].with_user(user or self.user).create(vals)

    def queued(self, records=None):
        domain = []
        if records is not None:
            domain = [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        return self.env["m365.outbox"].sudo().search(domain)

    def drain(self):
        self.env["m365.job.outbox"]._m365_cron()
        self.env.invalidate_all()
        return self.env["m365.sync.run"].search([("kind", "=", "outbox")], order="id desc", limit=1)

    def make_due(self):
        """Pretend the back-off has passed for every waiting row."""
        self.queued().write({"next_attempt": datetime.now() - timedelta(seconds=1)})

    def link(self, record):
        return self.env["m365.event.link"]._m365_links_of(record, self.account)

    # -- Outlook side ------------------------------------------------------------

    def outlook(self, upn=ADELE):
        return self.sandbox.state.events(upn)

    def writes(self, method=None):
        """Graph writes logged by the sandbox (``$batch`` items included, no sign-in)."""
        out = []
        for record in self.sandbox.log:
            if "/oauth2/" in record.path or record.path.endswith("/$batch"):
                continue
            if record.method in ("POST", "PATCH", "DELETE") and (
                method is None or record.method == method
            ):
                out.append(record)
        return out

    def round_trips(self):
        return [r for r in self.sandbox.log if "/oauth2/" not in r.path and not r.in_batch]
