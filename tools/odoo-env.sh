# Sourced by the Odoo scripts (tests, demo): database role, addons path and
# helpers. PostgreSQL is reached over TCP with trust auth; Odoo refuses to run
# as the 'postgres' superuser, so a dedicated role is created once.
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
ODOO_DB_USER=${ODOO_DB_USER:-odoo}
export PGHOST PGPORT

if ! command -v psql >/dev/null 2>&1; then
  echo "odoo: psql not found: PostgreSQL client tools are needed" >&2
  return 1
fi
if ! psql -U postgres -d postgres -tAc "SELECT 1" >/dev/null 2>&1 &&
   ! psql -U "$ODOO_DB_USER" -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
  echo "odoo: cannot reach PostgreSQL at $PGHOST:$PGPORT" >&2
  return 1
fi
if [ "$(psql -U postgres -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$ODOO_DB_USER'" 2>/dev/null)" != 1 ]; then
  psql -U postgres -d postgres -qc "CREATE ROLE \"$ODOO_DB_USER\" LOGIN CREATEDB" >/dev/null || return 1
fi

# Addons path: Odoo's own addons, this repository and, when tools/venv.sh
# installed OCA queue_job (wheel odoo-addon-queue-job), the folder its wheel
# fills: <venv site-packages>/odoo/addons.
ODOO_ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$repo"
ODOO_VENV_ADDONS=$("${VENV:-.venv}/bin/python" -c \
  'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)/odoo/addons
if [ -f "$ODOO_VENV_ADDONS/queue_job/__manifest__.py" ]; then
  ODOO_ADDONS_PATH="$ODOO_ADDONS_PATH,$ODOO_VENV_ADDONS"
fi
ODOO_ARGS=(
  --addons-path="$ODOO_ADDONS_PATH"
  --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$ODOO_DB_USER"
  --db-filter='.*'
)

dropdb_quiet() {
  psql -U "$ODOO_DB_USER" -d postgres -qc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 ||
    psql -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
