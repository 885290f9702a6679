#!/usr/bin/env bash
# `make demo`: the sandbox tenant with its demo seed, database m365_demo with
# m365_sync installed and its tenant pointed at the sandbox, a first run of
# every sync feature that exists, then Odoo served on http://localhost:8069.
# Safe to re-run: the database is reused (the addon is updated), the sandbox
# keeps its tenant, client id and secret, and the configuration is rewritten.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
VENV=${VENV:-.venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
db=${M365_DEMO_DB:-m365_demo}
http_port=${M365_DEMO_PORT:-8069}
sandbox_port=${M365_SANDBOX_PORT:-8365}
state=.demo
mkdir -p "$state"

if [ ! -x "$ODOO_SRC/odoo-bin" ]; then
  cat >&2 <<MSG
make demo: no Odoo 19 source at $ODOO_SRC (odoo-bin not found).
  The demo needs Odoo 19 Community. Next step: get Odoo's official source there,
    git clone --depth 1 -b 19.0 https://github.com/odoo/odoo $ODOO_SRC
  (or unpack the nightly source package from https://nightly.odoo.com/19.0/nightly/src/),
  or set ODOO_SRC to where it is; then run make demo again.
MSG
  exit 1
fi
if ! command -v psql >/dev/null 2>&1 ||
   ! { psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U postgres -d postgres -tAc "SELECT 1" >/dev/null 2>&1 ||
       psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${ODOO_DB_USER:-odoo}" -d postgres -tAc "SELECT 1" >/dev/null 2>&1; }; then
  cat >&2 <<MSG
make demo: PostgreSQL is not reachable on ${PGHOST:-127.0.0.1}:${PGPORT:-5432} (or psql is missing).
  Next step: install and start it, e.g. on Debian/Ubuntu
    sudo apt-get install postgresql
  and allow local TCP logins ("host all all 127.0.0.1/32 trust" in pg_hba.conf,
  then restart PostgreSQL); then run make demo again.
MSG
  exit 1
fi

tools/venv.sh || exit 1
source tools/odoo-env.sh || exit 1

# 1. The sandbox, in the background for as long as Odoo serves.
rm -f "$state/sandbox.json"
"$VENV/bin/python" -m m365_sandbox --seed demo --host 127.0.0.1 --port "$sandbox_port" \
  --tls-dir "$state/tls" --info-file "$state/sandbox.json" >"$state/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  [ -s "$state/sandbox.json" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || { echo "make demo: the sandbox did not start:"; cat "$state/sandbox.log"; exit 1; }
  sleep 0.1
done
[ -s "$state/sandbox.json" ] || { echo "make demo: the sandbox did not start in time"; exit 1; }
echo "make demo: sandbox up on https://127.0.0.1:$sandbox_port"

# 2. The database: created once, updated afterwards.
if psql -U "$ODOO_DB_USER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
  echo "make demo: updating m365_sync in existing database $db"
  mode=(-u m365_sync)
else
  echo "make demo: creating database $db with m365_sync"
  mode=(-i m365_sync)
fi
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$db" "${mode[@]}" \
  --stop-after-init --no-http >"$state/odoo-install.log" 2>&1 ||
  { echo "make demo: installing the addon failed, see $state/odoo-install.log"; tail -n 20 "$state/odoo-install.log"; exit 1; }

# 3. Point the tenant at the sandbox and run the sync features once.
M365_SANDBOX_INFO="$repo/$state/sandbox.json" "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell \
  "${ODOO_ARGS[@]}" -d "$db" --no-http <tools/demo_setup.py 2>"$state/odoo-setup.log" |
  grep -E "^(demo|  )" || { echo "make demo: configuring the tenant failed, see $state/odoo-setup.log"; exit 1; }

# 4. Serve.
cat <<MSG

  Odoo is starting on http://localhost:$http_port
  database: $db   login: admin   password: admin
  Settings → Microsoft 365 shows the tenant connected to the sandbox.
  Ctrl-C stops Odoo and the sandbox.

MSG
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$db" --db-filter="^$db\$" \
  --http-port "$http_port"
