#!/usr/bin/env bash
# `make bench-odoo`: every Odoo benchmark (bench/odoo_*.py), each on its own
# scratch database next to an in-process sandbox with simulated latency.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
VENV=${VENV:-.venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
if [ ! -x "$ODOO_SRC/odoo-bin" ]; then
  echo "bench-odoo: skipped, no Odoo 19 at $ODOO_SRC (set ODOO_SRC)"
  exit 0
fi
tools/venv.sh || exit 1
source tools/odoo-env.sh || exit 1
export ODOO_SRC PGHOST PGPORT ODOO_DB_USER
rc=0
found=0
for module in bench/odoo_*.py; do
  [ -e "$module" ] || continue
  found=1
  name=$(basename "$module" .py)
  echo "== $name"
  "$VENV/bin/python" -m "bench.$name" "$@" || rc=1
  echo
done
[ "$found" = 1 ] || echo "bench-odoo: no Odoo benchmark yet"
exit $rc
