"""An attacker's suite: JSON-RPC against a running Odoo, as four different people.

Every call goes through HTTP (``/web/dataset/call_kw``, ``/web/dataset/call_button``,
the OAuth routes) after a real login, the way a browser console or a script would,
as: a plain internal user, an internal user of another company, a Microsoft 365
Manager who is not a Settings administrator, and a Settings administrator. Each
read, group-by, export, domain, order, onchange and write path that could reveal a
secret or re-assign a mailbox must be refused (an error answer) or blank, and no
answer may contain the client secret or any token of the victim's msal cache.
"""

import json
import logging

from odoo.tests import new_test_user, tagged

from .common import MEGAN, M365SandboxHttpCase, PersonalSyncMixin

_logger = logging.getLogger(__name__)

ACCESS_ERROR = "odoo.exceptions.AccessError"
SECRET_FIELDS = {
    "m365.tenant": ("client_secret", "client_secret_pending"),
    "m365.account": ("token_cache",),
}


@tagged("post_install", "-at_install")
class TestAttacker(PersonalSyncMixin, M365SandboxHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # cls.user (m365_adele) is the plain user; cls.other_user (m365_megan) the victim.
        cls.manager = new_test_user(
            cls.env,
            login="m365_att_manager",
            groups="base.group_user,m365_sync.group_m365_manager",
        )
        cls.admin = new_test_user(
            cls.env, login="m365_att_admin", groups="base.group_user,base.group_system"
        )
        cls.other_company = cls.env["res.company"].create({"name": "Attacker Co"})
        cls.outsider = new_test_user(
            cls.env,
            login="m365_att_outsider",
            groups="base.group_user,m365_sync.group_m365_manager",
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.roles = {
            "plain user": cls.user,
            "other company": cls.outsider,
            "M365 manager": cls.manager,
            "Settings admin": cls.admin,
        }

    def setUp(self):
        super().setUp()
        self.victim_account = self.connect(upn=MEGAN, user=self.other_user)
        self.victim_account.sudo().write({"direction": "both"})
        cache = json.loads(self.victim_account.sudo().token_cache)
        self.needles = [self.sandbox.client_secret] + [
            item["secret"]
            for section in ("RefreshToken", "AccessToken", "IdToken")
            for item in cache.get(section, {}).values()
        ]
        self.assertGreaterEqual(len(self.needles), 3)
        self.other_user.sudo()._m365_set_notice("Connected to megan@contoso (private)", "success")
        self.link = (
            self.env["m365.event.link"]
            .sudo()
            .create(
                {
                    "account_id": self.victim_account.id,
                    "user_id": self.other_user.id,
                    "company_id": self.env.company.id,
                    "graph_event_id": "AAMk-victim-event",
                }
            )
        )
        self.outbox = (
            self.env["m365.outbox"]
            .sudo()
            .create(
                {
                    "res_model": "calendar.event",
                    "res_id": 1,
                    "operation": "create",
                    "tenant_id": self.tenant.id,
                    "account_id": self.victim_account.id,
                    "user_id": self.other_user.id,
                    "company_id": self.env.company.id,
                }
            )
        )
        self.report = []
        self.addCleanup(self._log_report)

    def _log_report(self):
        """One line per role: the paths tried and how each was answered (closing note)."""
        by_role = {}
        for label, path, outcome, error in self.report:
            by_role.setdefault(label, []).append(
                f"{path} {outcome}{f' ({error})' if error else ''}"
            )
        for label, lines in by_role.items():
            _logger.info("attacker %s, %s paths: %s", label, len(lines), "; ".join(lines))

    # ------------------------------------------------------------------
    # JSON-RPC helpers
    # ------------------------------------------------------------------
    def login(self, user):
        self.authenticate(user.login, user.login + "x" * (8 - len(user.login)))

    def rpc(self, model, method, args=(), kwargs=None, route="call_kw"):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}}
        answer = self.url_open(
            f"/web/dataset/{route}/{model}/{method}",
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
        )
        self.assertEqual(answer.status_code, 200, answer.text[:300])
        for needle in self.needles:
            self.assertNotIn(needle, answer.text, f"{model}.{method} revealed a secret")
        return answer.json()

    @staticmethod
    def _path(model, method, args, kwargs):
        detail = json.dumps(kwargs or (list(args)[-1:] if args else ""), default=str)
        return f"{model}.{method} {detail[:90]}"

    def refused(self, label, model, method, args=(), kwargs=None, *, errors=(ACCESS_ERROR,), **kw):
        body = self.rpc(model, method, args, kwargs, **kw)
        self.assertIn("error", body, f"{label}: {model}.{method} was not refused: {body}")
        name = body["error"]["data"]["name"]
        self.assertIn(name, errors, f"{label}: {model}.{method}: {body['error']['data']}")
        self.report.append(
            (label, self._path(model, method, args, kwargs), "refused", name.rsplit(".", 1)[-1])
        )
        return body["error"]["data"]["message"]

    def answered(self, label, model, method, args=(), kwargs=None, **kw):
        body = self.rpc(model, method, args, kwargs, **kw)
        self.assertNotIn("error", body, f"{label}: {model}.{method}: {body.get('error')}")
        self.report.append(
            (label, self._path(model, method, args, kwargs), "answered without secret", "")
        )
        return body["result"]

    # ------------------------------------------------------------------
    # Secrets: every read path, every role
    # ------------------------------------------------------------------
    def _secret_read_paths(self, label, model, record_id, fname):
        ids = [[record_id]]
        domain = [("id", "=", record_id)]
        self.refused(label, model, "read", ids, {"fields": [fname]})
        self.refused(label, model, "web_read", ids, {"specification": {fname: {}}})
        self.refused(label, model, "search_read", [domain], {"fields": [fname]})
        self.refused(label, model, "web_search_read", [domain], {"specification": {fname: {}}})
        self.refused(label, model, "read_group", [[], [fname], [fname]], {"lazy": False})
        self.refused(label, model, "read_group", [[], [f"{fname}:array_agg"], []])
        self.refused(label, model, "formatted_read_group", [[]], {"groupby": [fname]})
        for aggregate in ("array_agg", "max", "count_distinct"):
            self.refused(
                label, model, "formatted_read_group", [[]], {"aggregates": [f"{fname}:{aggregate}"]}
            )
        self.refused(
            label,
            model,
            "formatted_read_group",
            [[]],
            {"groupby": ["id"], "having": [(f"{fname}:max", ">=", "a")]},
        )
        self.refused(label, model, "web_read_group", [[], [fname]])
        self.refused(label, model, "formatted_read_grouping_sets", [[], [[fname], []]])
        # Without the export right Odoo refuses any export (UserError); with it, the field.
        self.refused(
            label,
            model,
            "export_data",
            [*ids, [fname]],
            errors=(ACCESS_ERROR, "odoo.exceptions.UserError"),
        )
        self.refused(label, model, "search", [[(fname, "=like", "%")]])
        self.refused(label, model, "search_count", [[(fname, "!=", False)]])
        self.refused(label, model, "search", [[]], {"order": fname})
        self.refused(
            label, model, "search_read", [[]], {"fields": ["id"], "order": f"{fname} desc"}
        )
        self.refused(
            label,
            model,
            "onchange",
            [[record_id], {}, [], {fname: {}}],
        )
        description = self.answered(label, model, "fields_get", [], {"attributes": ["type"]})
        self.assertNotIn(fname, description, f"{label}: fields_get lists {fname}")
        # Reading "every field": refused when the record is not this role's, else no secret.
        body = self.rpc(model, "read", ids, {})
        if "error" in body:
            self.assertEqual(body["error"]["data"]["name"], ACCESS_ERROR)
        else:
            self.assertNotIn(fname, body["result"][0])
        self.report.append((label, f"{model}.read (all fields)", "refused or without secret", ""))

    def _secrets_for(self, label, user):
        self.login(user)
        for model, fnames in SECRET_FIELDS.items():
            record_id = self.tenant.id if model == "m365.tenant" else self.victim_account.id
            for fname in fnames:
                self._secret_read_paths(label, model, record_id, fname)
        # Through a relation: the account's tenant, the user's accounts.
        self.refused(label, "m365.account", "search", [[("tenant_id.client_secret", "=like", "%")]])
        self.refused(
            label, "res.users", "search", [[("m365_account_ids.token_cache", "=like", "%")]]
        )
        self.refused(
            label,
            "m365.outbox",
            "search_read",
            [[("account_id.token_cache", "!=", False)]],
            {"fields": ["id"]},
        )

    def test_secrets_are_write_only_for_a_plain_user(self):
        self._secrets_for("plain user", self.user)

    def test_secrets_are_write_only_for_another_company(self):
        self._secrets_for("other company", self.outsider)

    def test_secrets_are_write_only_for_a_manager(self):
        self._secrets_for("M365 manager", self.manager)

    def test_secrets_are_write_only_for_a_settings_admin(self):
        self._secrets_for("Settings admin", self.admin)

    def test_the_owner_cannot_read_their_own_tokens_either(self):
        self.login(self.other_user)
        label = "owner"
        account = [[self.victim_account.id]]
        self.refused(label, "m365.account", "read", account, {"fields": ["token_cache"]})
        self.refused(
            label,
            "res.users",
            "web_read",
            [[self.other_user.id]],
            {"specification": {"m365_account_ids": {"fields": {"token_cache": {}}}}},
        )
        self.refused(
            label,
            "m365.account",
            "web_search_read",
            [[]],
            {"specification": {"tenant_id": {"fields": {"client_secret": {}}}}},
        )
        rows = self.answered(
            label,
            "res.users",
            "web_read",
            [[self.other_user.id]],
            {"specification": {"m365_account_ids": {"fields": {"email": {}, "state": {}}}}},
        )
        self.assertEqual(rows[0]["m365_account_ids"][0]["state"], "connected")

    # ------------------------------------------------------------------
    # Ownership: nobody re-assigns a mailbox
    # ------------------------------------------------------------------
    def _takeover_for(self, label, user):
        self.login(user)
        account = [[self.victim_account.id]]
        attempts = {
            "user_id": user.id,
            "tenant_id": self.tenant.id,
            "graph_user_id": "attacker-oid",
            "email": "attacker@contoso.example",
            "state": "connected",
            "is_main": True,
            "home_account_id": "attacker.home",
            "token_cache": "{}",
        }
        for fname, value in attempts.items():
            self.refused(label, "m365.account", "write", [*account, {fname: value}])
            self.refused(
                label,
                "m365.account",
                "web_save",
                [*account, {fname: value}],
                {"specification": {"user_id": {}}},
            )
        self.refused(
            label,
            "m365.account",
            "create",
            [{"user_id": self.other_user.id, "tenant_id": self.tenant.id}],
        )
        self.refused(
            label,
            "m365.account",
            "create",
            [{"state": "connected", "graph_user_id": "x", "token_cache": "{}"}],
        )
        for model, record in (("m365.event.link", self.link), ("m365.outbox", self.outbox)):
            for fname in ("user_id", "account_id"):
                value = user.id if fname == "user_id" else False
                self.refused(label, model, "write", [[record.id], {fname: value}])
            self.refused(
                label,
                model,
                "create",
                [{"user_id": user.id, "account_id": self.victim_account.id, "graph_event_id": "x"}]
                if model == "m365.event.link"
                else [{"user_id": user.id, "res_model": "res.partner", "res_id": 1}],
            )
        self.env.invalidate_all()
        self.assertEqual(self.victim_account.user_id, self.other_user)
        self.assertEqual(self.victim_account.state, "connected")
        self.assertEqual(self.link.user_id, self.other_user)
        self.assertEqual(self.outbox.user_id, self.other_user)

    def test_a_plain_user_cannot_take_over_a_mailbox(self):
        self._takeover_for("plain user", self.user)

    def test_another_company_cannot_take_over_a_mailbox(self):
        self._takeover_for("other company", self.outsider)

    def test_a_manager_cannot_take_over_a_mailbox(self):
        self._takeover_for("M365 manager", self.manager)
        # … but pauses, resumes and reads it.
        self.answered("M365 manager", "m365.account", "action_pause", [[self.victim_account.id]])
        self.answered("M365 manager", "m365.account", "action_resume", [[self.victim_account.id]])
        rows = self.answered(
            "M365 manager",
            "m365.account",
            "read",
            [[self.victim_account.id]],
            {"fields": ["state"]},
        )
        self.assertEqual(rows[0]["state"], "connected")
        self.env.invalidate_all()
        self.assertEqual(self.victim_account.direction, "both")

    def test_a_settings_admin_cannot_take_over_a_mailbox(self):
        self._takeover_for("Settings admin", self.admin)

    # ------------------------------------------------------------------
    # The smaller ones
    # ------------------------------------------------------------------
    def test_notices_are_their_owners(self):
        victim = [[self.other_user.id]]
        for label, user in self.roles.items():
            self.login(user)
            if label == "Settings admin":
                rows = self.answered(
                    label, "res.users", "read", victim, {"fields": ["m365_notice"]}
                )
                self.assertIn("private", rows[0]["m365_notice"])
                continue
            self.refused(label, "res.users", "read", victim, {"fields": ["m365_notice"]})
            self.refused(
                label, "res.users", "web_read", victim, {"specification": {"m365_notice": {}}}
            )
            self.refused(label, "res.users", "search", [[("m365_notice", "ilike", "private")]])
            self.refused(
                label, "res.users", "formatted_read_group", [[]], {"groupby": ["m365_notice"]}
            )
        # Their own notice: readable.
        self.login(self.other_user)
        rows = self.answered(
            "owner", "res.users", "read", victim, {"fields": ["m365_notice", "m365_notice_type"]}
        )
        self.assertIn("private", rows[0]["m365_notice"])

    def test_tenant_metadata_is_for_settings_admins(self):
        tenant = [[self.tenant.id]]
        for label in ("plain user", "other company", "M365 manager"):
            self.login(self.roles[label])
            for fname in ("client_id", "azure_tenant", "ca_bundle", "granted_roles"):
                self.refused(label, "m365.tenant", "read", tenant, {"fields": [fname]})
            self.refused(label, "m365.tenant", "read", tenant, {"fields": ["last_check_message"]})
        self.login(self.user)
        # What a user's own flow needs stays readable.
        rows = self.answered(
            "plain user",
            "m365.tenant",
            "read",
            tenant,
            {"fields": ["display_name", "personal_sync"]},
        )
        self.assertTrue(rows[0]["personal_sync"])
        self.login(self.admin)
        rows = self.answered(
            "Settings admin", "m365.tenant", "read", tenant, {"fields": ["client_id", "ca_bundle"]}
        )
        self.assertEqual(rows[0]["client_id"], self.sandbox.client_id)

    def test_settings_never_echo_or_store_the_secret(self):
        self.login(self.admin)
        saved = self.answered(
            "Settings admin",
            "res.config.settings",
            "web_save",
            [[], {"m365_client_secret": "typed-secret-value"}],
            {"specification": {"m365_client_secret": {}, "m365_client_secret_set": {}}},
        )
        self.assertNotIn("typed-secret-value", json.dumps(saved))
        self.env.cr.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'res_config_settings' AND column_name = 'm365_client_secret'"
        )
        self.assertFalse(self.env.cr.fetchall(), "the typed secret has no column")
        message = self.refused(
            "Settings admin",
            "res.config.settings",
            "web_save",
            [[], {"m365_run_retention_days": 0}],
            {"specification": {}},
            errors=("odoo.exceptions.ValidationError",),
        )
        self.assertIn("at least 1 day", message)
        for fname, value in (
            ("graph_url", "https://"),
            ("graph_url", "https://user:password@graph.example.com/v1.0"),
            ("authority_host", "javascript:alert(1)"),
            ("authority_host", "https://login.example.com/?x=1"),
        ):
            self.refused(
                "Settings admin",
                "m365.tenant",
                "write",
                [[self.tenant.id], {fname: value}],
                errors=("odoo.exceptions.ValidationError",),
            )
        message = self.refused(
            "Settings admin",
            "m365.category.rule",
            "create",
            [{"name": "x" * 300, "tenant_id": self.tenant.id}],
            errors=("odoo.exceptions.ValidationError",),
        )
        self.assertIn("at most 255 characters", message)

    def test_no_role_reads_the_pending_secret_either(self):
        self.tenant.sudo().client_secret_pending = "pending-secret-value"
        self.needles.append("pending-secret-value")
        for label, user in self.roles.items():
            self.login(user)
            self.refused(
                label,
                "m365.tenant",
                "read",
                [[self.tenant.id]],
                {"fields": ["client_secret_pending"]},
            )

    def test_oauth_start_refuses_cross_site_requests(self):
        mine = self.env["m365.account"].with_user(self.user).create({"direction": "down"})
        self.login(self.user)
        for url in (
            f"/m365_sync/oauth/start?account_id={mine.id}",
            f"/m365_sync/oauth/start?account_id={mine.id}&csrf_token=abc",
        ):
            answer = self.url_open(url, allow_redirects=False)
            self.assertNotIn(self.sandbox.url, answer.headers.get("Location", ""))
        answer = self.url_open(
            "/m365_sync/oauth/start", data={"account_id": mine.id}, allow_redirects=False
        )
        self.assertNotIn(self.sandbox.url, answer.headers.get("Location", ""))
        self.assertEqual(answer.status_code, 400)
        # Someone else's account, even with a valid token, is refused too.
        action = self.answered(
            "plain user", "m365.account", "action_connect", [[mine.id]], route="call_button"
        )
        token = action["url"].split("csrf_token=")[1]
        answer = self.url_open(
            f"/m365_sync/oauth/start?account_id={self.victim_account.id}&csrf_token={token}",
            allow_redirects=False,
        )
        self.assertNotIn(self.sandbox.url, answer.headers.get("Location", ""))
        answer = self.url_open(action["url"], allow_redirects=False)
        self.assertTrue(answer.headers["Location"].startswith(self.sandbox.url), "own: allowed")

    # ------------------------------------------------------------------
    # Change notifications: the subscription's clientState
    # ------------------------------------------------------------------
    def test_subscription_client_state_is_write_only(self):
        secret = "cs-" + "9" * 40
        sub = (
            self.env["m365.subscription"]
            .sudo()
            .create(
                {
                    "tenant_id": self.tenant.id,
                    "kind": "personal",
                    "account_id": self.victim_account.id,
                    "user_id": self.other_user.id,
                    "graph_id": "sub-victim",
                    "client_state": secret,
                    "client_state_digest": "d" * 64,
                    "state": "active",
                }
            )
        )
        self.needles.append(secret)
        for label in ("other company", "M365 manager", "Settings admin"):
            self.login(self.roles[label])
            for fname in ("client_state", "client_state_digest"):
                self._secret_read_paths(label, "m365.subscription", sub.id, fname)
        # Nobody may change a subscription through RPC (only the sync does).
        self.login(self.admin)
        self.refused(
            "Settings admin", "m365.subscription", "write", [[sub.id], {"state": "removing"}]
        )
        self.login(self.user)
        self.refused("plain user", "m365.subscription", "read", [[sub.id]], {"fields": ["state"]})
