"""m365_sync_queue's template is what Odoo exports from the installed module, and German
loads (see m365_sync's translations_common)."""

from odoo.addons.m365_sync.tests.translations_common import TranslationCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestQueueTranslations(TranslationCase):
    module = "m365_sync_queue"

    def test_template_has_every_string_of_the_module(self):
        self.assert_template_is_current()

    def test_german_loads(self):
        env = self.load_german()
        field = env["res.config.settings"].fields_get(["m365_queue_channels"])[
            "m365_queue_channels"
        ]
        self.assertEqual(field["string"], "Kanäle des Job-Runners")
        self.assertEqual(
            env._(
                "Another Microsoft 365 unit is using this mailbox (%(unit)s): queued again, "
                "so that at most 4 requests reach the mailbox at once.",
                unit="u",
            ),
            "Eine andere Microsoft-365-Einheit verwendet dieses Postfach (u): erneut eingereiht, "
            "damit höchstens 4 Anfragen gleichzeitig das Postfach erreichen.",
        )
