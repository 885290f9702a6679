"""m365_graph's layers: every import points down, and ``sync/`` does no I/O.

Why this file exists: the package is four layers (see ``m365_graph/__init__.py``),

    core (0)  <-  identity (1)  <-  sync (2)  <-  resources (3)  <-  m365_graph (top)

and a module may import only modules of its own layer or of a lower one. ``sync/``
holds decisions only: besides the rank rule it may not import the modules that do
I/O (the client, HTTP, the client's paging/delta/``$batch`` bases, MSAL token
providers, the auth-code flow, the connection check) nor an HTTP library. Nothing
in ``m365_graph`` imports ``odoo``, the addon or the sandbox.

Every ``import`` is read with :mod:`ast` — at module level, inside functions and
under ``if TYPE_CHECKING:`` alike — so a local import cannot hide a wrong
direction; and no module imports the package from inside a function at all (the
client's paging, delta and ``$batch`` used to, to dodge a cycle).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import m365_graph

PACKAGE = pathlib.Path(m365_graph.__file__).parent
TOP = "m365_graph"

RANK = {"core": 0, "identity": 1, "sync": 2, "resources": 3}
TOP_RANK = len(RANK)

#: What ``sync/`` may not import although its rank would allow it: they do I/O.
IO_MODULES = frozenset(
    {
        "m365_graph.core.client",
        "m365_graph.core.http",
        "m365_graph.core.paging",
        "m365_graph.core.delta",
        "m365_graph.core.batch",
        "m365_graph.identity.auth",
        "m365_graph.identity.authflow",
        "m365_graph.identity.clients",
        "m365_graph.identity.connection",
    }
)
IO_LIBRARIES = frozenset({"requests", "urllib3", "msal", "socket", "http", "ssl"})
#: Nobody in m365_graph imports these.
FORBIDDEN = frozenset({"odoo", "m365_sync", "m365_sandbox", "bench"})


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """The subpackage of ``module`` (``None`` for ``m365_graph`` itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def rank_of(module: str) -> int:
    layer = layer_of(module)
    if layer is None:
        return TOP_RANK
    if layer not in RANK:
        raise AssertionError(f"{module}: m365_graph/{layer} is not a known layer")
    return RANK[layer]


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in ``source`` (any depth)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None or target in (TOP, *(f"{TOP}.{layer}" for layer in RANK)):
                # ``from . import x``: x may be a submodule; name it.
                found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, target))
    return found


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """What is wrong with the imports of ``module`` (empty when it keeps the rules)."""
    own = rank_of(module)
    in_sync = layer_of(module) == "sync"
    wrong: list[str] = []
    for line, target in imported_modules(module, source, is_package):
        root = target.split(".")[0]
        where = f"{module}:{line} imports {target}"
        if root in FORBIDDEN:
            wrong.append(f"{where}: m365_graph never imports {root}")
            continue
        if in_sync and root in IO_LIBRARIES:
            wrong.append(f"{where}: sync/ does no I/O")
            continue
        if root != TOP or (target == TOP and module == TOP):
            continue
        if target.count(".") >= 1 and layer_of(target) not in RANK:
            # ``from m365_graph import X`` names, not modules: the top level.
            target_rank = TOP_RANK
        else:
            target_rank = rank_of(target)
        if target_rank > own:
            wrong.append(f"{where}: a lower layer imports a higher one")
        elif in_sync and any(target == m or target.startswith(f"{m}.") for m in IO_MODULES):
            wrong.append(f"{where}: sync/ does no I/O")
    return wrong


def local_imports(source: str) -> list[int]:
    """Lines of imports of m365_graph modules made inside a function or class body."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.ImportFrom)
                    and (inner.level or (inner.module or "").split(".")[0] == TOP)
                ) or (
                    isinstance(inner, ast.Import)
                    and any(alias.name.split(".")[0] == TOP for alias in inner.names)
                ):
                    lines.append(inner.lineno)
    return lines


def package_modules() -> list[pathlib.Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer():
    for path in package_modules():
        name = module_name(path)
        assert name == TOP or layer_of(name) in RANK, f"{name} is outside the four layers"


@pytest.mark.parametrize("path", package_modules(), ids=module_name)
def test_imports_point_down_and_sync_does_no_io(path):
    name = module_name(path)
    assert violations(name, path.read_text(), path.name == "__init__.py") == []


@pytest.mark.parametrize("path", package_modules(), ids=module_name)
def test_no_local_imports_of_the_package(path):
    """A function-level import would hide a cycle (client <-> paging/delta/batch was one)."""
    assert local_imports(path.read_text()) == [], module_name(path)


def test_a_planted_local_import_is_caught():
    assert local_imports("def f():\n    from .delta import Delta\n") == [2]
    assert local_imports("import os\ndef f():\n    import os.path\n") == []


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("m365_graph.core.errors", "from ..resources.users import get_user", "higher"),
        ("m365_graph.core.client", "def f():\n    from ..identity.auth import X\n", "higher"),
        (
            "m365_graph.core.batch",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from m365_graph.sync.outbox import PushOperation\n",
            "higher",
        ),
        ("m365_graph.identity.auth", "from .. import GraphClient", "higher"),
        ("m365_graph.sync.pull", "from ..core.client import GraphClient", "I/O"),
        ("m365_graph.sync.pull", "from ..core import http", "I/O"),
        ("m365_graph.sync.push", "import requests", "I/O"),
        ("m365_graph.sync.push", "from ..resources.events import get_event", "higher"),
        ("m365_graph.resources.users", "from odoo import fields", "never imports odoo"),
        ("m365_graph.core.text", "import m365_sandbox.server", "never imports m365_sandbox"),
    ],
)
def test_a_planted_bad_import_is_caught(module, source, why):
    found = violations(module, source)
    assert found and why in found[0], found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("m365_graph.resources.series", "from ..sync.pull import resolve_series"),
        ("m365_graph.sync.outbox", "from ..core.errors import NotFound"),
        ("m365_graph.sync.personal", "from ..identity.permissions import FEATURES"),
        ("m365_graph.core.client", "from .paging import Paging"),
    ],
)
def test_allowed_imports_pass(module, source):
    assert violations(module, source) == []
