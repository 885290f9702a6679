"""Build each addon's README.rst from its readme/ fragments (OCA layout):
m365_sync, m365_sync_queue and m365_sync_hr.

Run by `make readme`; `make lint` fails when a README.rst is out of date.
"""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
ADDONS = ("m365_sync", "m365_sync_queue", "m365_sync_hr")
SECTIONS = [("DESCRIPTION", None), ("CONFIGURE", "Configuration"), ("USAGE", "Usage")]


def build(addon):
    addon = REPO / addon
    manifest = eval((addon / "__manifest__.py").read_text(encoding="utf-8"))  # noqa: S307
    title = manifest["name"]
    parts = ["=" * len(title), title, "=" * len(title), ""]
    parts += [f"*{manifest['summary']}*", "", f"License: {manifest['license']}", ""]
    for fragment, heading in SECTIONS:
        path = addon / "readme" / f"{fragment}.rst"
        if not path.exists():
            continue
        if heading:
            parts += [heading, "=" * len(heading), ""]
        parts += [path.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(parts)


def main():
    stale = []
    for name in ADDONS:
        text = build(name)
        target = REPO / name / "README.rst"
        if "--check" in sys.argv:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(f"{name}/README.rst")
            continue
        target.write_text(text, encoding="utf-8")
    if stale:
        sys.exit(f"{', '.join(stale)} out of date: run `make readme`")


if __name__ == "__main__":
    main()
