"""The sandbox's layers, checked from its source: dependencies point down only.

``server/`` → ``graph/`` → ``identity/`` → ``tenant/``: the tenant knows nothing of
HTTP, the identity platform nothing of Graph, and neither Graph nor the identity
platform knows the server (handlers get a ``HandlerContext``, not the
``Sandbox``). The sandbox is a stand-in for Microsoft, so it never imports the
client it is testing (``m365_graph``) or Odoo. Every import is read with
``ast`` — including those under ``if TYPE_CHECKING:`` and inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import m365_graph
import m365_sandbox

SANDBOX = Path(m365_sandbox.__file__).parent
GRAPH_CLIENT = Path(m365_graph.__file__).parent
LAYERS = ("server", "graph", "identity", "tenant")

# What each layer must not import (its own layer and those below are fine).
FORBIDDEN = {
    "tenant": {"server", "graph", "identity"},
    "identity": {"server", "graph"},
    "graph": {"server"},
    "server": set(),
}
FOREIGN = ("m365_graph", "odoo")


def _modules() -> list[Path]:
    return sorted(SANDBOX.rglob("*.py"))


def _dotted(path: Path) -> str:
    parts = ["m365_sandbox", *path.relative_to(SANDBOX).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(path: Path) -> str:
    dotted = _dotted(path)
    return dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from . import x`` / ``from ..tenant import x``: x may be a module.
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    if len(parts) > 1 and parts[0] == "m365_sandbox" and parts[1] in LAYERS:
        return parts[1]
    return None


def test_every_module_is_in_a_layer():
    top_level = {p.name for p in SANDBOX.glob("*.py")}
    assert top_level == {"__init__.py", "__main__.py"}
    for layer in LAYERS:
        assert (SANDBOX / layer / "__init__.py").is_file(), layer


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SANDBOX)))
def test_dependencies_point_down(path):
    own = _layer(_dotted(path))
    wrong = []
    for line, module in _imports(path):
        if module.split(".")[0] in FOREIGN:
            wrong.append(f"line {line}: imports {module}")
        target = _layer(module)
        if own and target in FORBIDDEN[own]:
            wrong.append(f"line {line}: {own}/ imports {module}")
    assert not wrong, f"{path.relative_to(SANDBOX)}: " + "; ".join(wrong)


def test_the_walker_sees_relative_and_type_checking_imports():
    # A guard on the guard: these imports exist and must be resolved as such.
    router = {m for _, m in _imports(SANDBOX / "graph" / "router.py")}
    assert "m365_sandbox.tenant.handler_context" in router  # under TYPE_CHECKING
    assert "m365_sandbox.graph.batch_handler" in router  # from . import batch_handler
    server = {m for _, m in _imports(SANDBOX / "server" / "sandbox_server.py")}
    assert "m365_sandbox.tenant.seed" in server  # imported inside __init__
    assert _layer("m365_sandbox.server.sandbox_server") == "server"


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _layer(_dotted(p)) in ("graph", "identity")],
    ids=lambda p: str(p.relative_to(SANDBOX)),
)
def test_handlers_never_reach_through_the_sandbox(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    reach = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "sandbox"
    ]
    assert not reach, f"{path.relative_to(SANDBOX)} uses .sandbox on lines {reach}"


def test_module_names_do_not_reuse_the_graph_clients():
    # Same file name, other meaning (batch.py, events.py, …) made both packages
    # harder to read; package names (graph/, identity/) are allowed.
    client = {p.name for p in GRAPH_CLIENT.rglob("*.py")} - {"__init__.py", "__main__.py"}
    sandbox = {p.name for p in _modules()} - {"__init__.py", "__main__.py"}
    assert not client & sandbox


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SANDBOX)))
def test_every_module_says_why_it_exists(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 40, path.relative_to(SANDBOX)
