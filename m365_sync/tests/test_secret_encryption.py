"""Secrets encrypted at rest with the server's key: transparent, rotatable, never lost."""

import os
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL

from m365_graph.core.secretbox import PREFIX

from ..models import m365_secret_mixin
from .common import M365SandboxCase, PersonalSyncMixin

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def server_key(setting):
    """The server's key setting (m365_sync_key) for the duration of a block."""
    return patch.object(m365_secret_mixin, "key_setting", return_value=setting)


@tagged("post_install", "-at_install")
class TestSecretEncryption(PersonalSyncMixin, M365SandboxCase):
    def stored(self, record, fname):
        record.flush_recordset([fname])
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE id = %s",
                SQL.identifier(fname),
                SQL.identifier(record._table),
                record.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def test_client_secret_and_token_cache_are_encrypted_in_the_database(self):
        with server_key(NEW):
            self.tenant.client_secret = self.sandbox.client_secret
            stored = self.stored(self.tenant, "client_secret")
            self.assertTrue(stored.startswith(PREFIX))
            self.assertNotIn(self.sandbox.client_secret, stored)
            self.tenant.invalidate_recordset()
            self.assertEqual(self.tenant.sudo().client_secret, self.sandbox.client_secret)
            # The whole flow works on encrypted values: sign-in, token cache, sync.
            account = self.connect()
            cache = self.stored(account, "token_cache")
            self.assertTrue(cache.startswith(PREFIX))
            self.assertNotIn("refresh_token", cache)
            self.assertNotIn("RefreshToken", cache)
            self.assertIn("RefreshToken", account.sudo().token_cache)
            outcome, run = self.sync(account)
            self.assertTrue(outcome, run.message)
            self.assertTrue(self.stored(account, "token_cache").startswith(PREFIX))

    def test_rotated_sign_ins_are_encrypted_and_never_read_back(self):
        with server_key(NEW):
            account = self.connect()
            Rotation = self.env["m365.token.rotation"].sudo()
            Rotation._m365_store(account.id, "rotated-refresh-token", 1.0)
            row = Rotation.search([("account_id", "=", account.id)])
            stored = self.stored(row, "token_cache")
            self.assertTrue(stored.startswith(PREFIX))
            self.assertNotIn("rotated-refresh-token", stored)
            row.invalidate_recordset()
            self.assertEqual(row.token_cache, "rotated-refresh-token")
            admin = self.env.ref("base.user_admin")
            for read in (
                lambda r: r.read(["token_cache"]),
                lambda r: r.search_read([], ["token_cache"]),
                lambda r: r.search([("token_cache", "=like", "rot%")]),
            ):
                with self.assertRaises(AccessError):
                    read(Rotation.with_user(admin).browse(row.id))

    def test_the_key_may_come_from_the_environment(self):
        with patch.dict(os.environ, {"M365_SYNC_KEY": NEW}):
            self.assertTrue(self.env["m365.tenant"]._m365_encryption_enabled())
            self.tenant.client_secret = "from-the-environment"
            self.assertTrue(self.stored(self.tenant, "client_secret").startswith(PREFIX))

    def test_without_a_key_the_addon_works_and_settings_say_so(self):
        with server_key(""):
            self.tenant.client_secret = "plain-value"
            self.assertEqual(self.stored(self.tenant, "client_secret"), "plain-value")
            settings = self.env["res.config.settings"].create({})
            self.assertFalse(settings.m365_secrets_encrypted)
            self.assertFalse(settings.m365_encryption_problem)
        with server_key(NEW):
            self.assertTrue(self.env["res.config.settings"].create({}).m365_secrets_encrypted)
        with server_key("not-a-key"):
            settings = self.env["res.config.settings"].create({})
            self.assertIn("is not a valid encryption key", settings.m365_encryption_problem)

    def test_plain_rows_stay_readable_and_are_encrypted_by_the_migration(self):
        with server_key(""):
            account = self.connect()
            self.tenant.client_secret = self.sandbox.client_secret
        plain_cache = self.stored(account, "token_cache")
        self.assertFalse(plain_cache.startswith(PREFIX))
        with server_key(NEW):
            self.env.invalidate_all()
            self.assertEqual(account.sudo().token_cache, plain_cache, "still readable")
            rewritten, failed = self.env["m365.tenant"]._m365_reencrypt_secrets()
            self.assertGreaterEqual(rewritten, 2)
            self.assertEqual(failed, 0)
            self.assertTrue(self.stored(account, "token_cache").startswith(PREFIX))
            self.assertTrue(self.stored(self.tenant, "client_secret").startswith(PREFIX))
            self.assertEqual(account.sudo().token_cache, plain_cache, "nothing lost")
            self.assertEqual(self.env["m365.tenant"]._m365_reencrypt_secrets(), (0, 0))

    def test_key_rotation_old_key_decrypts_reencrypt_uses_the_new_one(self):
        with server_key(OLD):
            self.tenant.client_secret = self.sandbox.client_secret
            old_stored = self.stored(self.tenant, "client_secret")
        with server_key(f"{NEW},{OLD}"):
            self.env.invalidate_all()
            self.assertEqual(self.tenant.sudo().client_secret, self.sandbox.client_secret)
            self.env["m365.tenant"]._m365_reencrypt_secrets()
            self.assertNotEqual(self.stored(self.tenant, "client_secret"), old_stored)
        with server_key(NEW):
            self.env.invalidate_all()
            self.assertEqual(self.tenant.sudo().client_secret, self.sandbox.client_secret)
            self.tenant.action_test_connection()
            self.assertEqual(self.tenant.connection_state, "ok", self.tenant.last_check_message)

    def test_a_missing_or_wrong_key_stops_the_jobs_with_a_clear_message(self):
        with server_key(OLD):
            account = self.connect()
            self.tenant.client_secret = self.sandbox.client_secret
        sealed_cache = self.stored(account, "token_cache")
        sealed_secret = self.stored(self.tenant, "client_secret")
        for setting, words in (("", "has no encryption key"), (NEW, "the key was changed")):
            with server_key(setting):
                self.env.invalidate_all()
                with self.assertRaisesRegex(UserError, words):
                    self.tenant._m365_config()
                outcome, _run = self.sync(account)
                self.assertFalse(outcome)
                self.assertIn(words, account.last_error)
                self.assertEqual(account.state, "error")
                # Nothing was lost or overwritten.
                self.assertEqual(self.stored(account, "token_cache"), sealed_cache)
                self.assertEqual(self.stored(self.tenant, "client_secret"), sealed_secret)
                # Settings still open, and still know a secret is saved.
                self.assertTrue(self.env["res.config.settings"].create({}).m365_client_secret_set)
        with server_key(OLD):
            self.env.invalidate_all()
            outcome, run = self.sync(account)
            self.assertTrue(outcome, run.message)

    def test_settings_button_reencrypts_and_refuses_without_a_key(self):
        with server_key(""):
            self.tenant.client_secret = "plain-before-the-key"
            with self.assertRaisesRegex(UserError, "No encryption key is configured"):
                self.env["res.config.settings"].create({}).action_m365_reencrypt_secrets()
        with server_key(NEW):
            action = self.env["res.config.settings"].create({}).action_m365_reencrypt_secrets()
            self.assertIn("re-encrypted with the current key", action["params"]["message"])
            self.assertTrue(self.stored(self.tenant, "client_secret").startswith(PREFIX))
            self.assertEqual(self.tenant.sudo().client_secret, "plain-before-the-key")
