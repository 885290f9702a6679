"""m365_sync's template is what Odoo exports from the installed module, and German
loads: views, field labels, Python messages and the JS terms (see translations_common)."""

from odoo.tests import tagged
from odoo.tools.translate import code_translations

from .translations_common import TranslationCase


@tagged("post_install", "-at_install")
class TestTranslations(TranslationCase):
    module = "m365_sync"

    def test_template_has_every_string_of_the_module(self):
        self.assert_template_is_current()

    def test_a_string_missing_from_the_template_is_named(self):
        """The comparison can fail: a template without one exported msgid is refused."""
        exported = self._exported_msgids()
        dropped = sorted(exported)[0]
        self._template_msgids = lambda: exported - {dropped}
        with self.assertRaisesRegex(AssertionError, "not in i18n/m365_sync.pot"):
            self.assert_template_is_current()

    def test_german_loads(self):
        env = self.load_german()
        Room = env["m365.room"]
        self.assertEqual(Room.fields_get(["bookable"])["bookable"]["string"], "Buchbar")
        arch = Room.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Kalender jetzt lesen", arch)
        self.assertIn("Microsoft 365 führt diesen Raum nicht mehr", arch)
        settings = env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        # assertTrue, not assertIn: a failure would print the whole Settings form.
        self.assertTrue("Die Räume des Mandanten werden importiert" in settings, "rooms setting")
        self.assertTrue('string="Termine und Outlook"' in settings, "upload rules setting")
        self.assertEqual(env._("Not booked: %(error)s", error="x"), "Nicht gebucht: x")
        web = code_translations.get_web_translations(self.module, "de_DE")
        web = {message["id"]: message["string"] for message in web["messages"]}
        self.assertEqual(web["Use this time"], "Diese Zeit verwenden")
