"""The addons' translations cover their templates: every msgid of i18n/<addon>.pot is
translated in each i18n/<lang>.po, with the same placeholders and markup, and no .po
keeps a msgid the template no longer has (regenerate with `make pot`, which also
merges each new template into de.po: tools/po_merge.py).

Whether the template covers the code is checked with Odoo, not here: the terms of
views, fields, selections and data records only exist in an installed database, and
picking `_()`/`_t()` calls out of the sources by pattern would miss or invent some.
Each addon's Odoo suite compares Odoo's own exporter with its committed template
(m365_sync/tests/translations_common.py), so `make test` fails on a string added
without `make pot`."""

import importlib.util
import re
from collections import Counter
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("m365_sync", "m365_sync_queue", "m365_sync_hr")
#: What a translation must keep as is: Python and JS placeholders (%(name)s, %s, %d,
#: {name}), QWeb/Jinja expressions, and the tags of HTML strings (names only:
#: attributes may differ).
PLACEHOLDER = re.compile(
    r"%\([a-z_]+\)[sd]|%[sd]|\{\{[^}]*\}\}|\{[a-z_]+\}|t-(?:out|att-href)=\"[^\"]*\""
)
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


def _catalog(path, entries):
    catalog = polib.POFile()
    catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for msgid, msgstr in entries:
        catalog.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(str(path))


def test_po_merge_keeps_reuses_and_drops(tmp_path):
    """`make pot`'s merge: a translation is kept, one of a string that moved from another
    addon is reused, a new string is left empty (so the check above names it), and a
    msgid the template lost is dropped, not kept as an obsolete entry."""
    spec = importlib.util.spec_from_file_location("po_merge", ROOT / "tools" / "po_merge.py")
    po_merge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(po_merge)
    _catalog(tmp_path / "a" / "i18n" / "a.pot", [("Kept", ""), ("Moved", ""), ("New", "")])
    _catalog(tmp_path / "a" / "i18n" / "de.po", [("Kept", "Behalten"), ("Gone", "Weg")])
    _catalog(tmp_path / "b" / "i18n" / "de.po", [("Moved", "Umgezogen")])
    po_merge.main(["a"], root=tmp_path)
    merged = polib.pofile(str(tmp_path / "a" / "i18n" / "de.po"))
    assert [(entry.msgid, entry.msgstr) for entry in merged] == [
        ("Kept", "Behalten"),
        ("Moved", "Umgezogen"),
        ("New", ""),
    ]
    assert not merged.obsolete_entries()
