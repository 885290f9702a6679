"""``make demo`` on a fresh machine says what to do next when Odoo or PostgreSQL is missing.

Runs ``tools/demo.sh`` with an empty ``$ODOO_SRC``, then with a stand-in Odoo tree and
a PostgreSQL port nobody listens on: the script stops before it builds anything and
names the next step (Odoo's official 19.0 source or nightly package; installing
and reaching PostgreSQL).
"""

import os
import shutil
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_demo(tmp_path, **env):
    return subprocess.run(  # noqa: S603 — our own script, fixed arguments
        [shutil.which("bash") or "/bin/bash", str(ROOT / "tools" / "demo.sh")],
        env={**os.environ, "M365_DEMO_DB": "m365_demo_never_created", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_without_odoo_it_says_how_to_get_odoo_19(tmp_path):
    result = run_demo(tmp_path, ODOO_SRC=str(tmp_path / "no-odoo"))
    assert result.returncode == 1
    assert "no Odoo 19 source at" in result.stderr
    assert "git clone --depth 1 -b 19.0 https://github.com/odoo/odoo" in result.stderr
    assert "nightly.odoo.com/19.0" in result.stderr


def test_without_postgresql_it_says_how_to_get_it(tmp_path):
    odoo = tmp_path / "odoo"
    odoo.mkdir()
    (odoo / "odoo-bin").write_text("#!/bin/sh\nexit 0\n")
    (odoo / "odoo-bin").chmod(0o755)
    result = run_demo(tmp_path, ODOO_SRC=str(odoo), PGPORT=str(free_port()))
    assert result.returncode == 1
    assert "PostgreSQL is not reachable" in result.stderr
    assert "apt-get install postgresql" in result.stderr
