"""The busy-time shard count: a setting of m365_sync (not of the queue glue addon), and
the migration that carries a value saved under the glue addon's old key."""

import importlib.util
from pathlib import Path

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..models.jobs import m365_job_busy

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.1.0" / "post-migrate.py"
OLD_KEY = "m365_sync_queue.busy_shards"


def _migration():
    spec = importlib.util.spec_from_file_location("m365_sync_busy_shards_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestBusyShardsSetting(TransactionCase):
    def setUp(self):
        super().setUp()
        self.Param = self.env["ir.config_parameter"].sudo()
        self.Param.search([("key", "in", (OLD_KEY, m365_job_busy.SHARDS_PARAM))]).unlink()

    def test_the_setting_is_m365_syncs(self):
        self.assertEqual(m365_job_busy.SHARDS_PARAM, "m365_sync.busy_shards")
        settings = self.env["res.config.settings"].create({"m365_busy_shards": 4})
        settings.execute()
        self.assertEqual(self.Param.get_param(m365_job_busy.SHARDS_PARAM), "4")
        tenant = self.env.company.m365_tenant_id
        self.assertEqual(self.env["m365.job.busy"]._m365_busy_shards(tenant), 4)
        with self.assertRaisesRegex(ValidationError, "from 1 to 64"):
            self.env["res.config.settings"].create({"m365_busy_shards": 65})
        view = self.env.ref("m365_sync.res_config_settings_view_form")
        self.assertIn('name="m365_busy_shards"', view.arch_db)

    def test_the_migration_carries_the_old_value_over(self):
        self.Param.set_param(OLD_KEY, "6")
        _migration().migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertEqual(self.Param.get_param(m365_job_busy.SHARDS_PARAM), "6")
        self.assertFalse(self.Param.search([("key", "=", OLD_KEY)]), "the old key is gone")

    def test_the_migration_keeps_a_value_set_under_the_new_key(self):
        self.Param.set_param(OLD_KEY, "6")
        self.Param.set_param(m365_job_busy.SHARDS_PARAM, "2")
        _migration().migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertEqual(self.Param.get_param(m365_job_busy.SHARDS_PARAM), "2")
        self.assertFalse(self.Param.search([("key", "=", OLD_KEY)]))

    def test_the_migration_does_nothing_on_install_or_without_an_old_value(self):
        _migration().migrate(self.env.cr, "19.0.1.0.0")
        self.Param.set_param(OLD_KEY, "6")
        _migration().migrate(self.env.cr, None)  # a fresh install: nothing to carry
        self.env.invalidate_all()
        self.assertFalse(self.Param.search([("key", "=", m365_job_busy.SHARDS_PARAM)]))
