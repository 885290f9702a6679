"""Repository-wide pytest hooks: what lets pytest-odoo run the addon's suites.

The pure suites (tests/) never import Odoo, and nothing here does unless the
pytest-odoo plugin is switched on. pyproject.toml's addopts switch it off
(``-p no:odoo``): its module imports ``odoo`` as soon as pytest loads it, which
would end every pure run on a machine without Odoo with exit 3. An Odoo run
switches it on again::

    PYTHONPATH=$ODOO_SRC pytest -p odoo --odoo-database=DB m365_sync/tests

Why pytest-odoo used to load a registry without this addon's models: pytest
imports the test files itself (as ``odoo.addons.m365_sync.tests.…``, thanks to
pytest-odoo), but the registry only loads the installed modules it finds on
Odoo's addons path. Without this repository on it, Odoo logs "module
m365_sync: not installable, skipped" (hidden by pytest-odoo's default log level
``critical``) and the tests then meet a ``res.company`` without
``m365_tenant_id``. So this file puts the repository (and the venv folder
holding OCA queue_job, when present) on the addons path before collection, and
stops the run with a plain message when the registry still lacks m365_sync.
"""

import os
import sysconfig

import pytest

REPO = os.path.dirname(os.path.abspath(__file__))
ADDON = "m365_sync"
# Where the odoo-addon-queue-job wheel puts its addon (tools/venv.sh).
VENV_ADDONS = os.path.join(sysconfig.get_paths()["purelib"], "odoo", "addons")


def _odoo_plugin_on(config):
    return config.pluginmanager.hasplugin("odoo")


def _odoo_configured(config):
    """True when pytest-odoo is loaded and has parsed an Odoo configuration."""
    if not _odoo_plugin_on(config):
        return False
    import odoo.tools

    return bool(odoo.tools.config["db_name"])


def pytest_addoption(parser, pluginmanager):
    if pluginmanager.is_blocked("odoo"):
        # pytest-odoo is off (pyproject addopts): say how to switch it on
        # rather than "unrecognized arguments: --odoo-database".
        parser.addoption(
            "--odoo-database",
            dest="m365_odoo_database_without_plugin",
            help="needs the pytest-odoo plugin: add -p odoo (off by default here)",
        )


def pytest_configure(config):
    if not _odoo_plugin_on(config) and config.getoption(
        "m365_odoo_database_without_plugin", default=None
    ):
        raise pytest.UsageError(
            "--odoo-database needs the pytest-odoo plugin, which this repository "
            "switches off by default (pyproject.toml addopts: -p no:odoo) so that the "
            "pure suites run without Odoo. Add -p odoo, with Odoo importable "
            "(PYTHONPATH=$ODOO_SRC), e.g.\n"
            "  PYTHONPATH=/opt/odoo19 pytest -p odoo --odoo-database=DB m365_sync/tests"
        )


def pytest_sessionstart(session):
    """Put this repository on Odoo's addons path before the test files import."""
    if not _odoo_configured(session.config):
        return
    import odoo.modules.module
    import odoo.tools

    paths = list(odoo.tools.config["addons_path"])
    for folder in (REPO, VENV_ADDONS):
        if os.path.isdir(folder) and folder not in paths:
            paths.append(folder)
    odoo.tools.config["addons_path"] = paths
    odoo.modules.module.initialize_sys_path()


@pytest.fixture(scope="session", autouse=True)
def _m365_registry_has_the_addon(request):
    """Stop at once, in plain words, when the registry lacks m365_sync."""
    if not _odoo_configured(request.config):
        yield
        return
    request.getfixturevalue("load_registry")
    import odoo.modules.registry
    import odoo.tests.common

    db_name = odoo.tests.common.get_db_name()
    registry = odoo.modules.registry.Registry(db_name)
    if ADDON not in registry._init_modules:
        with registry.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [ADDON])
            row = cr.fetchone()
        state = row[0] if row else "unknown to this database"
        pytest.exit(
            f"the Odoo registry of database {db_name!r} was loaded without {ADDON} "
            f"(module state: {state}). Install it first "
            f"(odoo-bin -d {db_name} -i {ADDON} --stop-after-init, with {REPO} on the "
            f"addons path), or use `make test-pytest-odoo`, which builds such a database.",
            returncode=1,
        )
    yield
