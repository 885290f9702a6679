"""Bring each addon's translations in line with its freshly exported template.

`make pot` (tools/pot.sh) rewrites i18n/<addon>.pot from an installed database;
this step then rewrites i18n/<lang>.po of the same addons in the template's
order: a msgid keeps its translation; a msgid new to this addon takes the
translation another addon of the repository already has for it (a string that
moved between addons is not translated twice); anything else is left empty for
a translator, and msgids the template no longer has are dropped (no obsolete
`#~` entries: tests/tools/test_translations.py refuses stale msgids). Empty
entries are what that test reports as missing. The .po keeps its header and
comments; lines are not wrapped, as in the translations written so far.

Usage: python tools/po_merge.py [--lang de] ADDON [ADDON ...]
"""

import argparse
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
HEADER_COMMENT = "German translation of {addon} (terminology as m365_sync's de.po)."
METADATA = {
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Language-Team": "German",
    "Language": "de",
    "Plural-Forms": "nplurals=2; plural=(n != 1);",
}


def translations(po_path):
    """msgid → msgstr of the translated, non-fuzzy, non-obsolete entries of a .po."""
    if not po_path.exists():
        return {}
    return {
        entry.msgid: entry.msgstr
        for entry in polib.pofile(str(po_path))
        if entry.msgid and entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
    }


def merge(addon, lang, memory, root=ROOT):
    pot_path = root / addon / "i18n" / f"{addon}.pot"
    po_path = root / addon / "i18n" / f"{lang}.po"
    pot = polib.pofile(str(pot_path), wrapwidth=0)
    own = translations(po_path)
    if po_path.exists():
        old = polib.pofile(str(po_path), wrapwidth=0)
        header, metadata = old.header, dict(old.metadata)
    else:
        header, metadata = HEADER_COMMENT.format(addon=addon), dict(pot.metadata)
        metadata.update(METADATA)
    # Dated as the template it follows: a re-run without new strings changes nothing.
    for key in ("POT-Creation-Date", "PO-Revision-Date"):
        metadata[key] = pot.metadata.get("POT-Creation-Date", "")

    po = polib.POFile(wrapwidth=0)
    po.header, po.metadata = header, metadata
    kept = reused = empty = 0
    for entry in pot:
        if entry.obsolete:
            continue
        if entry.msgid in own:
            entry.msgstr, kept = own[entry.msgid], kept + 1
        elif entry.msgid in memory:
            entry.msgstr, reused = memory[entry.msgid], reused + 1
        else:
            entry.msgstr, empty = "", empty + 1
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        po.append(entry)
    po.save(str(po_path))
    dropped = len(own.keys() - {entry.msgid for entry in po})
    print(
        f"po_merge: {addon}/i18n/{lang}.po: {len(po)} msgids, {kept} kept, "
        f"{reused} from other addons, {empty} to translate, {dropped} dropped"
    )
    return empty


def main(argv=None, root=ROOT):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="de")
    parser.add_argument("addons", nargs="+")
    args = parser.parse_args(argv)
    memory = {}
    for po_path in sorted(root.glob(f"*/i18n/{args.lang}.po")):
        memory.update(translations(po_path))
    for addon in args.addons:
        merge(addon, args.lang, memory, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
