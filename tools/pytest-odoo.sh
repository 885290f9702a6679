#!/usr/bin/env bash
# The addon's Odoo suites under pytest-odoo, the runner the project's users
# name: a fresh database with m365_sync installed (next to Odoo's own
# microsoft_calendar, as in tools/odoo-tests.sh), then
#   pytest -p odoo --odoo-database=DB --odoo-http m365_sync/tests
# (TransactionCase and HttpCase alike). odoo-bin --test-tags stays the main Odoo
# runner (tools/odoo-tests.sh); this one proves the suites also pass here.
# Prints one plain "pytest-odoo: N passed, N failed" line; no test collected,
# or any test skipped for want of --odoo-http, fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
VENV=${VENV:-.venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
db=${M365_PYTEST_DB:-${M365_TEST_DB:-m365_test}_pytest}
logdir=.test-runtime
mkdir -p "$logdir"
install_log="$logdir/pytest-odoo-install.log"
log="$logdir/pytest-odoo.log"

source tools/odoo-env.sh || exit 1

dropdb_quiet "$db"
echo "pytest-odoo: installing m365_sync (+ microsoft_calendar) in $db (log: $install_log)"
if ! "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$db" \
  -i m365_sync,microsoft_calendar --stop-after-init --no-http >"$install_log" 2>&1; then
  echo "pytest-odoo: installing the addon failed"
  tail -n 20 "$install_log"
  echo "pytest-odoo: 0 passed, 1 failed"
  exit 1
fi

echo "pytest-odoo: running m365_sync/tests on $db (log: $log)"
# pytest-odoo imports `odoo` from the source tree; the plugin is off by default
# in pyproject.toml (-p no:odoo) and switched on here.
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" PGUSER="$ODOO_DB_USER" \
  "$VENV/bin/python" -m pytest -p odoo -p no:cacheprovider -q -rfEs \
  --odoo-database="$db" --odoo-addons-path="$ODOO_ADDONS_PATH" --odoo-http \
  --odoo-log-level=warn --odoo-extra="db_host=$PGHOST" --odoo-extra="db_port=$PGPORT" \
  --odoo-extra="db_user=$ODOO_DB_USER" \
  m365_sync/tests >"$log" 2>&1
rc=$?

# pytest ends with e.g. "246 passed, 12 warnings in 70.12s"
summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed|error|skipped|deselected)|no tests ran" "$log" | tail -n 1)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE "^[0-9]+" || echo 0; }
passed=$(count passed)
failed=$(($(count failed) + $(count error)))
skipped=$(count skipped)
grep -E "^(FAILED|ERROR|SKIPPED) " "$log" | head -n 40
echo "pytest-odoo: pytest said: ${summary:-nothing (see $log)}"
case $rc in
  0) ;;
  5) echo "pytest-odoo: no tests collected"; failed=$((failed + 1)) ;;
  *) [ "$failed" -eq 0 ] && failed=1 ;;
esac
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "pytest-odoo: no test passed"
  failed=1
fi
if grep -q "skipped because it is an HttpCase" "$log"; then
  echo "pytest-odoo: HttpCase tests were skipped (no --odoo-http?)"
  failed=$((failed + 1))
fi
echo "pytest-odoo: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
