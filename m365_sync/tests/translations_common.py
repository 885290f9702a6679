"""What every addon of this repository checks about its translations, with Odoo.

The pure suite (tests/tools/test_translations.py) checks that de.po covers the
template; only Odoo can tell whether the template covers the code, because the
terms of views, fields, selections and data records exist once the module is
installed. So this runs Odoo's own exporter (what `make pot` writes to
i18n/<addon>.pot) on the installed module and compares its msgids with the
committed template: a string added to the code, a view or the JS without
`make pot` fails here, by name. Then German is loaded from the addon's de.po
as Odoo loads it for a user who picks it.
"""

from pathlib import Path

import polib

from odoo.modules import get_module_path
from odoo.tests import TransactionCase
from odoo.tools.translate import TranslationModuleReader


class TranslationCase(TransactionCase):
    #: The addon whose template is checked.
    module = "m365_sync"

    def _template_msgids(self):
        pot = Path(get_module_path(self.module)) / "i18n" / f"{self.module}.pot"
        return {entry.msgid for entry in polib.pofile(str(pot)) if entry.msgid}

    def _exported_msgids(self):
        reader = TranslationModuleReader(self.env.cr, modules=[self.module])
        return {source for _module, _type, _name, _res_id, source, _value, _comments in reader}

    def assert_template_is_current(self):
        exported, template = self._exported_msgids(), self._template_msgids()
        missing = sorted(exported - template)
        self.assertFalse(
            missing,
            f"{len(missing)} translatable string(s) of {self.module} are not in "
            f"i18n/{self.module}.pot (run `make pot`, then translate them in de.po): {missing[:5]}",
        )
        stale = sorted(template - exported)
        self.assertFalse(
            stale,
            f"{len(stale)} msgid(s) of i18n/{self.module}.pot are no longer in the code "
            f"(run `make pot`): {stale[:5]}",
        )

    def load_german(self):
        """German as Odoo installs it (Settings → Languages), this addon's terms only."""
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms([self.module], ["de_DE"], overwrite=True)
        return self.env(context=dict(self.env.context, lang="de_DE"))
