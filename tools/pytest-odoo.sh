#!/usr/bin/env bash
# The addon's Odoo suites under pytest-odoo, the runner the project's users
# name: a fresh database with m365_sync installed (next to Odoo's own
# microsoft_calendar, as in tools/odoo-tests.sh), then
#   pytest -p odoo --odoo-database=DB --odoo-http m365_sync/tests
# (TransactionCase and HttpCase alike); then, when Odoo has hr_holidays and
# hr_homeworking, the HR glue addon the same way: m365_sync_hr installed on a
# database of its own (DB_hr, as tools/odoo-tests.sh does) and
# m365_sync_hr/tests run on it. odoo-bin --test-tags stays the main Odoo runner
# (tools/odoo-tests.sh); this one proves the suites also pass here.
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

source tools/odoo-env.sh || exit 1

total_passed=0
total_failed=0
total_skipped=0

# run_suite <database> <modules to install> <what> <tests folder> <log stem>
run_suite() {
  local sdb=$1 modules=$2 what=$3 tests=$4 stem=$5
  local install_log="$logdir/$stem-install.log" log="$logdir/$stem.log"
  dropdb_quiet "$sdb"
  echo "pytest-odoo: installing $what in $sdb (log: $install_log)"
  if ! "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$sdb" \
    -i "$modules" --stop-after-init --no-http >"$install_log" 2>&1; then
    echo "pytest-odoo: installing $what failed"
    tail -n 20 "$install_log"
    total_failed=$((total_failed + 1))
    return
  fi

  echo "pytest-odoo: running $tests on $sdb (log: $log)"
  # pytest-odoo imports `odoo` from the source tree; the plugin is off by default
  # in pyproject.toml (-p no:odoo) and switched on here.
  PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" PGUSER="$ODOO_DB_USER" \
    "$VENV/bin/python" -m pytest -p odoo -p no:cacheprovider -q -rfEs \
    --odoo-database="$sdb" --odoo-addons-path="$ODOO_ADDONS_PATH" --odoo-http \
    --odoo-log-level=warn --odoo-extra="db_host=$PGHOST" --odoo-extra="db_port=$PGPORT" \
    --odoo-extra="db_user=$ODOO_DB_USER" \
    "$tests" >"$log" 2>&1
  local rc=$?

  # pytest ends with e.g. "246 passed, 12 warnings in 70.12s"
  local summary
  summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed|error|skipped|deselected)|no tests ran" "$log" | tail -n 1)
  count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE "^[0-9]+" || echo 0; }
  local passed failed skipped
  passed=$(count passed)
  failed=$(($(count failed) + $(count error)))
  skipped=$(count skipped)
  grep -E "^(FAILED|ERROR|SKIPPED) " "$log" | head -n 40
  echo "pytest-odoo: $tests: pytest said: ${summary:-nothing (see $log)}"
  case $rc in
    0) ;;
    5) echo "pytest-odoo: $tests: no tests collected"; failed=$((failed + 1)) ;;
    *) [ "$failed" -eq 0 ] && failed=1 ;;
  esac
  if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    echo "pytest-odoo: $tests: no test passed"
    failed=1
  fi
  if grep -q "skipped because it is an HttpCase" "$log"; then
    echo "pytest-odoo: $tests: HttpCase tests were skipped (no --odoo-http?)"
    failed=$((failed + 1))
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
}

run_suite "$db" m365_sync,microsoft_calendar "m365_sync (+ microsoft_calendar)" \
  m365_sync/tests pytest-odoo
if [ -d m365_sync_hr ] && [ -d "$ODOO_SRC/addons/hr_holidays" ] && [ -d "$ODOO_SRC/addons/hr_homeworking" ]; then
  run_suite "${db}_hr" m365_sync_hr "m365_sync_hr (+ hr_holidays, hr_homeworking)" \
    m365_sync_hr/tests pytest-odoo-hr
else
  echo "pytest-odoo: m365_sync_hr skipped (Odoo has no hr_holidays/hr_homeworking)"
fi
echo "pytest-odoo: $total_passed passed, $total_failed failed, $total_skipped skipped"
[ "$total_failed" -eq 0 ]
