"""The addon's hoot unit tests (``static/tests/*.test.js``) in Odoo's test browser.

Runs only the ``@m365_sync`` suite of ``/web/tests`` (Odoo's own runner, filtered
by the suite's id as Odoo's ``web/tests/test_js.py`` does); without Chromium Odoo
skips it with "Chrome executable not found".
"""

from odoo.tests import HttpCase, tagged


def _hoot_id(name):
    """The id hoot gives a suite (the hash of its full name, as in web's test_js)."""
    value = 0
    for char in name:
        value = ((value << 5) - value + ord(char)) & 0xFFFFFFFF
    return f"{value:08x}"


def _error_checker(message):
    return "[HOOT]" not in message


@tagged("post_install", "-at_install")
class TestResourceOverviewJs(HttpCase):
    def test_hoot_suite(self):
        self.browser_js(
            f"/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&id={_hoot_id('@m365_sync')}",
            "",
            "",
            login="admin",
            timeout=600,
            success_signal="[HOOT] Test suite succeeded",
            error_checker=_error_checker,
        )
