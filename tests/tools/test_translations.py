"""The addons' translations cover their templates: every msgid of i18n/<addon>.pot is
translated in each i18n/<lang>.po, with the same placeholders and markup, and no .po
keeps a msgid the template no longer has (regenerate with `make pot`, then
`msgmerge -U --no-fuzzy-matching <addon>/i18n/de.po <addon>/i18n/<addon>.pot`)."""

import re
from collections import Counter
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("m365_sync", "m365_sync_queue")
#: What a translation must keep as is: Python and JS placeholders, QWeb/Jinja
#: expressions, and the tags of HTML strings (names only: attributes may differ).
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%s|\{\{[^}]*\}\}|t-(?:out|att-href)=\"[^\"]*\"")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b")


def catalogs():
    for addon in ADDONS:
        pot = ROOT / addon / "i18n" / f"{addon}.pot"
        if not pot.exists():
            continue
        for po in sorted(pot.parent.glob("*.po")):
            yield pytest.param(pot, po, id=f"{addon}/{po.name}")


CATALOGS = list(catalogs())


def test_every_addon_with_strings_has_a_template_and_german():
    for addon in ADDONS:
        assert (ROOT / addon / "i18n" / f"{addon}.pot").exists(), addon
        assert (ROOT / addon / "i18n" / "de.po").exists(), addon


@pytest.mark.parametrize(("pot", "po"), CATALOGS)
def test_every_msgid_is_translated_with_its_placeholders(pot, po):
    template = {entry.msgid for entry in polib.pofile(str(pot)) if entry.msgid}
    translation = {entry.msgid: entry for entry in polib.pofile(str(po)) if entry.msgid}
    missing = sorted(template - translation.keys())
    assert not missing, f"{len(missing)} msgid(s) of {pot.name} not in {po.name}: {missing[:5]}"
    stale = sorted(translation.keys() - template)
    assert not stale, f"{len(stale)} msgid(s) of {po.name} no longer in {pot.name}: {stale[:5]}"
    for msgid, entry in translation.items():
        assert entry.msgstr.strip(), f"untranslated in {po.name}: {msgid[:80]!r}"
        assert "fuzzy" not in entry.flags, f"fuzzy in {po.name}: {msgid[:80]!r}"
        assert Counter(PLACEHOLDER.findall(msgid)) == Counter(PLACEHOLDER.findall(entry.msgstr)), (
            f"placeholders differ in {po.name}: {msgid[:80]!r}"
        )
        assert Counter(TAG.findall(msgid)) == Counter(TAG.findall(entry.msgstr)), (
            f"markup differs in {po.name}: {msgid[:80]!r}"
        )


def test_a_missing_translation_is_caught(tmp_path):
    """The check above can fail: a .po without one msgid of the template is refused."""
    pot, po = CATALOGS[0].values
    entries = polib.pofile(str(po))
    entries.remove(next(entry for entry in entries if entry.msgid))
    shorter = tmp_path / "de.po"
    entries.save(str(shorter))
    with pytest.raises(AssertionError, match=r"not in de\.po"):
        test_every_msgid_is_translated_with_its_placeholders(pot, shorter)
