#!/usr/bin/env bash
# The addon's Odoo suites: a fresh database with m365_sync installed next to
# Odoo's own microsoft_calendar, the tests tagged /m365_sync run by odoo-bin,
# then an uninstall that must leave no m365 table behind. Prints one plain
# "odoo: N passed, N failed" line. Needs Odoo 19 at $ODOO_SRC and PostgreSQL.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
VENV=${VENV:-.venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
db=${M365_TEST_DB:-m365_test}
logdir=.test-runtime
mkdir -p "$logdir"
log="$logdir/odoo-tests.log"

source tools/odoo-env.sh || exit 1

dropdb_quiet "$db"
port=$(free_port)
echo "odoo: installing m365_sync (+ microsoft_calendar) in $db and running its tests (log: $log)"
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$db" \
  -i m365_sync,microsoft_calendar --test-enable --test-tags /m365_sync \
  --http-port "$port" --stop-after-init --log-level=test >"$log" 2>&1
rc=$?

# Odoo ends with "<n> failed, <n> error(s) of <n> tests when loading database"
summary=$(grep -E "failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n 1)
errors=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log")
grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL|WARNING) .*(m365|FAIL|Traceback)" "$log" | head -n 40
tests=$(grep -cE "Starting .*\.test_" "$log")
if [ -n "$summary" ]; then
  total=$(sed -E 's/.* of ([0-9]+) tests.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.* ([0-9]+) failed, ([0-9]+) error.*/\1+\2/' <<<"$summary")
  failed=$((failed))
else
  total=$tests
  failed=$errors
fi
if [ "$rc" -ne 0 ] || [ "$errors" -gt 0 ]; then
  [ "$failed" -eq 0 ] && failed=1
fi
if [ "$total" -eq 0 ]; then
  echo "odoo: no test ran (see $log)"
  exit 1
fi

uninstall_rc=0
if [ "$failed" -eq 0 ]; then
  echo "odoo: uninstalling m365_sync"
  "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell "${ODOO_ARGS[@]}" -d "$db" --no-http \
    >"$logdir/odoo-uninstall.log" 2>&1 <<'PY'
module = env["ir.module.module"].search([("name", "=", "m365_sync")])
module.button_immediate_uninstall()
env.cr.commit()
env.cr.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'm365%'")
left = env.cr.fetchone()[0]
state = env["ir.module.module"].search([("name", "=", "m365_sync")]).state
print("M365-UNINSTALL state=%s tables_left=%s" % (state, left))
PY
  if grep -q "M365-UNINSTALL state=uninstalled tables_left=0" "$logdir/odoo-uninstall.log"; then
    echo "odoo: uninstall left nothing behind"
  else
    echo "odoo: uninstall FAILED (see $logdir/odoo-uninstall.log)"
    grep -E "M365-UNINSTALL|ERROR|Error" "$logdir/odoo-uninstall.log" | head -n 20
    uninstall_rc=1
  fi
fi

echo "odoo: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$uninstall_rc" -eq 0 ]
