"""No class of the repository defines a method twice.

Why this file exists: two branches each added ``calendar.event._m365_after_push``
(the rooms' answers, the Teams meeting); the merge kept both definitions in one
class, Python kept the second, and the rooms' answers silently stopped — ruff's
F811 does not see a redefinition inside a class body. This reads every module
with ``ast`` (no Odoo needed) and names the class and both lines.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("m365_graph", "m365_sandbox", "m365_sync", "m365_sync_hr", "m365_sync_queue", "bench")
#: Decorators under which a second definition is intended (property setters, overloads).
ALLOWED = {"setter", "getter", "deleter", "overload", "register"}


def _decorated_as_allowed(func):
    for deco in func.decorator_list:
        name = getattr(deco, "attr", None) or getattr(deco, "id", None)
        if name in ALLOWED:
            return True
    return False


def _sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _redefinitions(paths, root=ROOT):
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            seen = {}
            for item in node.body:
                if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if _decorated_as_allowed(item):
                    continue
                if item.name in seen:
                    where = path.relative_to(root)
                    found.append(
                        f"{where}: {node.name}.{item.name} at lines "
                        f"{seen[item.name]} and {item.lineno}"
                    )
                seen[item.name] = item.lineno
    return found


def test_no_method_is_defined_twice_in_one_class():
    assert _redefinitions(_sources()) == []


def test_the_check_sees_a_redefinition_and_allows_property_setters(tmp_path):
    module = tmp_path / "model.py"
    module.write_text(
        "class Event:\n"
        "    def _m365_after_push(self):\n        pass\n\n"
        "    @property\n    def size(self):\n        return 1\n\n"
        "    @size.setter\n    def size(self, value):\n        pass\n\n"
        "    def _m365_after_push(self):\n        pass\n"
    )
    assert _redefinitions([module], root=tmp_path) == [
        "model.py: Event._m365_after_push at lines 2 and 13"
    ]
