"""Build m365_sync/README.rst from the addon's readme/ fragments (OCA layout).

Run by `make readme`; `make lint` fails when README.rst is out of date.
"""

import pathlib
import sys

ADDON = pathlib.Path(__file__).resolve().parent.parent / "m365_sync"
SECTIONS = [("DESCRIPTION", None), ("CONFIGURE", "Configuration"), ("USAGE", "Usage")]


def build():
    manifest = eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))  # noqa: S307
    title = manifest["name"]
    parts = ["=" * len(title), title, "=" * len(title), ""]
    parts += [f"*{manifest['summary']}*", "", f"License: {manifest['license']}", ""]
    for fragment, heading in SECTIONS:
        path = ADDON / "readme" / f"{fragment}.rst"
        if not path.exists():
            continue
        if heading:
            parts += [heading, "=" * len(heading), ""]
        parts += [path.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(parts)


def main():
    text = build()
    target = ADDON / "README.rst"
    if "--check" in sys.argv:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            sys.exit("m365_sync/README.rst is out of date: run `make readme`")
        return
    target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
