"""Shared set-up of the Odoo benchmarks (``make bench-odoo``): a scratch database.

Why this file exists: the feature benchmarks (contacts, busy time, personal sync,
outbox…) measure the whole path — Graph reads through the sandbox with latency *and*
the ORM writes — so each needs a real Odoo database with m365_sync installed and a
tenant pointed at the sandbox. :func:`odoo_env` drops and re-creates the database
with ``odoo-bin`` (clean, repeatable), then opens an environment on it in-process,
next to the in-process sandbox. Connection settings come from the environment that
``tools/bench-odoo.sh`` prepares (``ODOO_SRC``, ``PGHOST``, ``PGPORT``,
``ODOO_DB_USER``). Jobs commit as they would in production.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ODOO_SRC = Path(os.environ.get("ODOO_SRC", "/opt/odoo19"))


def addons_path() -> str:
    """Odoo's addons, this repository and, when tools/venv.sh installed OCA queue_job
    (wheel odoo-addon-queue-job), the folder its wheel fills (as tools/odoo-env.sh)."""
    import sysconfig

    paths = [ODOO_SRC / "addons", ODOO_SRC / "odoo" / "addons", REPO]
    venv_addons = Path(sysconfig.get_paths()["purelib"]) / "odoo" / "addons"
    if (venv_addons / "queue_job" / "__manifest__.py").exists():
        paths.append(venv_addons)
    return ",".join(str(path) for path in paths)


def _odoo_args(dbname: str) -> list[str]:
    return [
        f"--addons-path={addons_path()}",
        f"--db_host={os.environ.get('PGHOST', '127.0.0.1')}",
        f"--db_port={os.environ.get('PGPORT', '5432')}",
        f"--db_user={os.environ.get('ODOO_DB_USER', 'odoo')}",
        f"--database={dbname}",
        "--log-level=warn",
        "--http-interface=127.0.0.1",
    ]


def _create_database(dbname: str, modules: tuple[str, ...]) -> None:
    import psycopg2

    conn = psycopg2.connect(
        dbname="postgres",
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("ODOO_DB_USER", "odoo"),
    )
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    conn.close()
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own odoo-bin with fixed arguments
        [
            sys.executable,
            str(ODOO_SRC / "odoo-bin"),
            *_odoo_args(dbname),
            f"--init={','.join(modules)}",
            "--stop-after-init",
            "--no-http",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        # Odoo's own chatter (root warning, docutils notes) only matters when it failed.
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit(f"installing {', '.join(modules)} in {dbname} failed")
    took = time.perf_counter() - began
    print(f"  database {dbname} with {', '.join(modules)} ready in {took:.0f} s")


@contextmanager
def odoo_env(dbname: str, modules: tuple[str, ...] = ("m365_sync",)):
    """Yield a superuser ``odoo.api.Environment`` on a fresh database ``dbname``."""
    if not (ODOO_SRC / "odoo-bin").exists():
        raise SystemExit(f"no Odoo 19 at {ODOO_SRC}: set ODOO_SRC")
    _create_database(dbname, modules)
    if str(ODOO_SRC) not in sys.path:
        sys.path.insert(0, str(ODOO_SRC))
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(_odoo_args(dbname), setup_logging=True)
    registry = Registry.new(dbname)
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


REDIRECT_URI = "http://localhost:8069/m365_sync/oauth/callback"


def connect_account(env, sb, account, upn: str):
    """Connect ``account`` as ``upn``: the OAuth round trip a browser makes, then what
    the callback controller stores. Commits."""
    from m365_graph import check_signed_in_identity, finish_auth_code_flow, start_auth_code_flow

    sb.state.signed_in_user = upn
    config = account.tenant_id._m365_config()
    begun = start_auth_code_flow(config, REDIRECT_URI, scopes=account._m365_consent_scopes())
    result = finish_auth_code_flow(config, begun.flow, sb.browse_authorize(begun.auth_url))
    oid = check_signed_in_identity(
        result.claims, result.home_account_id, expected_tenant=config.tenant
    )
    account._m365_store_connection(result, oid)
    env.cr.commit()
    return account


def point_tenant_at(env, sb, **features) -> object:
    """Configure the company's tenant for the sandbox ``sb``; returns the tenant."""
    tenant = env.company.m365_tenant_id
    tenant.write(
        {
            "azure_tenant": sb.tenant_id,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
            "authority_host": sb.url,
            "graph_url": sb.graph_url,
            "ca_bundle": sb.ca_path,
            **features,
        }
    )
    env.cr.commit()
    return tenant
