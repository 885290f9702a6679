"""m365_sync_hr's template is what Odoo exports from the installed module, and German
loads (see m365_sync's translations_common)."""

from odoo.addons.m365_sync.tests.translations_common import TranslationCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestHrTranslations(TranslationCase):
    module = "m365_sync_hr"

    def test_template_has_every_string_of_the_module(self):
        self.assert_template_is_current()

    def test_german_loads(self):
        env = self.load_german()
        Leave = env["hr.leave"]
        field = Leave.fields_get(["m365_outlook_event_id"])["m365_outlook_event_id"]
        self.assertEqual(field["string"], "Aus Outlook-Termin")
        arch = Leave.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Dieser Antrag wurde aus einem Abwesenheitstermin in Outlook angelegt", arch)
        self.assertEqual(env._("Out of office"), "Abwesend")
