"""``make demo``'s setup script names only models and methods the addon defines.

Why this file exists: ``tools/demo_setup.py`` runs inside ``odoo-bin shell`` and is
exercised by no Odoo suite; when a job moved to its own model the demo broke
while every test stayed green. This reads the script and the addon as text (no
Odoo needed) and fails when the script calls an ``m365.*`` model or method that
no longer exists.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "demo_setup.py"


def _addon_models():
    """``{model name: method names}`` of every m365 model, inherited methods included."""
    methods: dict[str, set[str]] = {}
    parents: dict[str, set[str]] = {}
    for path in sorted(ROOT.glob("m365_sync*/models/**/*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef):
                continue
            attrs = {}
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                    try:
                        attrs[stmt.targets[0].id] = ast.literal_eval(stmt.value)
                    except ValueError:
                        continue
            inherit = attrs.get("_inherit", [])
            inherit = [inherit] if isinstance(inherit, str) else list(inherit)
            name = attrs.get("_name") or (inherit[0] if inherit else None)
            if not name:
                continue
            methods.setdefault(name, set()).update(
                f.name for f in node.body if isinstance(f, ast.FunctionDef)
            )
            parents.setdefault(name, set()).update(p for p in inherit if p != name)

    def closure(name, seen=()):
        found = set(methods.get(name, ()))
        for parent in parents.get(name, ()):
            if parent not in seen:
                found |= closure(parent, (*seen, name))
        return found

    return {name: closure(name) for name in methods}


def _calls(source):
    """``(model, method)`` of every ``env["m365.x"].method(...)`` and bare model use."""
    found = set(re.findall(r'env\["(m365\.[a-z0-9_.]+)"\](?:\.(_?[a-zA-Z0-9_]+))?', source))
    return found


def test_the_demo_script_uses_only_what_the_addon_defines():
    models = _addon_models()
    assert "m365.tenant" in models, "the addon's models were not found"
    calls = _calls(SCRIPT.read_text())
    assert calls, "the demo script names no m365 model"
    generic = {"create", "search", "browse", "sudo", "with_context", "with_user"}
    for model, method in calls:
        assert model in models, f"tools/demo_setup.py uses {model}, which the addon lacks"
        if method and method not in generic:
            assert method in models[model], (
                f"tools/demo_setup.py calls {model}.{method}, which the addon lacks"
            )


def test_the_check_catches_a_moved_job():
    models = _addon_models()
    stale = 'env["m365.contact.sync"]._m365_sync(tenant)'
    ((model, _method),) = _calls(stale)
    assert model not in models
