#!/usr/bin/env bash
# The addon's Odoo suites: a fresh database with m365_sync installed next to
# Odoo's own microsoft_calendar (queue_job not installed), the tests tagged
# /m365_sync run by odoo-bin, then an uninstall that must leave no m365 table
# behind. Then, when tools/venv.sh installed OCA queue_job, the glue addon's
# suites: a second fresh database with m365_sync_queue (which brings queue_job),
# the tests tagged /m365_sync_queue, and its uninstall (m365_sync stays, the
# job functions go). Then the HR glue addon: a third fresh database with
# m365_sync_hr (which brings hr_holidays and hr_homeworking), the tests tagged
# /m365_sync_hr, and its uninstall (m365_sync stays, its table and hr.leave
# columns go). Prints one plain "odoo: N passed, N failed" line. Needs
# Odoo 19 at $ODOO_SRC and PostgreSQL.
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
port=${M365_TEST_HTTP_PORT:-$(free_port)}
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

# The glue addon (OCA queue_job) on a database of its own.
queue_total=0
queue_failed=0
if [ -f "${ODOO_VENV_ADDONS:-}/queue_job/__manifest__.py" ] && [ -d m365_sync_queue ]; then
  qdb="${db}_queue"
  qlog="$logdir/odoo-tests-queue.log"
  dropdb_quiet "$qdb"
  qport=${M365_TEST_QUEUE_HTTP_PORT:-$(free_port)}
  echo "odoo: installing m365_sync_queue (+ queue_job) in $qdb and running its tests (log: $qlog)"
  "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$qdb" \
    -i m365_sync_queue --test-enable --test-tags /m365_sync_queue \
    --http-port "$qport" --stop-after-init --log-level=test >"$qlog" 2>&1
  qrc=$?
  qsummary=$(grep -E "failed, [0-9]+ error\(s\) of [0-9]+ tests" "$qlog" | tail -n 1)
  qerrors=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$qlog")
  grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL|WARNING) .*(m365|FAIL|Traceback)" "$qlog" | head -n 40
  if [ -n "$qsummary" ]; then
    queue_total=$(sed -E 's/.* of ([0-9]+) tests.*/\1/' <<<"$qsummary")
    queue_failed=$(($(sed -E 's/.* ([0-9]+) failed, ([0-9]+) error.*/\1+\2/' <<<"$qsummary")))
  else
    queue_total=$(grep -cE "Starting .*\.test_" "$qlog")
    queue_failed=$qerrors
  fi
  if [ "$qrc" -ne 0 ] || [ "$qerrors" -gt 0 ]; then
    [ "$queue_failed" -eq 0 ] && queue_failed=1
  fi
  if [ "$queue_total" -eq 0 ]; then
    echo "odoo: no m365_sync_queue test ran (see $qlog)"
    queue_failed=1
  elif [ "$queue_failed" -eq 0 ]; then
    echo "odoo: uninstalling m365_sync_queue"
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell "${ODOO_ARGS[@]}" -d "$qdb" --no-http \
      >"$logdir/odoo-uninstall-queue.log" 2>&1 <<'PY'
module = env["ir.module.module"].search([("name", "=", "m365_sync_queue")])
module.button_immediate_uninstall()
env.cr.commit()
functions = env["queue.job.function"].search_count([("name", "like", "<m365.job")])
state = env["ir.module.module"].search([("name", "=", "m365_sync_queue")]).state
base = env["ir.module.module"].search([("name", "=", "m365_sync")]).state
print("M365-QUEUE-UNINSTALL state=%s m365_sync=%s functions_left=%s" % (state, base, functions))
PY
    if grep -q "M365-QUEUE-UNINSTALL state=uninstalled m365_sync=installed functions_left=0" \
      "$logdir/odoo-uninstall-queue.log"; then
      echo "odoo: m365_sync_queue uninstall left m365_sync installed and no job function"
    else
      echo "odoo: m365_sync_queue uninstall FAILED (see $logdir/odoo-uninstall-queue.log)"
      grep -E "M365-QUEUE-UNINSTALL|ERROR|Error" "$logdir/odoo-uninstall-queue.log" | head -n 20
      uninstall_rc=1
    fi
  fi
  echo "odoo: m365_sync_queue: $((queue_total - queue_failed)) passed, $queue_failed failed"
else
  echo "odoo: m365_sync_queue skipped (no OCA queue_job in the venv: run make venv with Odoo)"
fi

# The HR glue addon (hr_holidays + hr_homeworking) on a database of its own.
hr_total=0
hr_failed=0
if [ -d m365_sync_hr ] && [ -d "$ODOO_SRC/addons/hr_holidays" ] && [ -d "$ODOO_SRC/addons/hr_homeworking" ]; then
  hdb="${db}_hr"
  hlog="$logdir/odoo-tests-hr.log"
  dropdb_quiet "$hdb"
  hport=${M365_TEST_HR_HTTP_PORT:-$(free_port)}
  echo "odoo: installing m365_sync_hr (+ hr_holidays, hr_homeworking) in $hdb and running its tests (log: $hlog)"
  "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$hdb" \
    -i m365_sync_hr --test-enable --test-tags /m365_sync_hr \
    --http-port "$hport" --stop-after-init --log-level=test >"$hlog" 2>&1
  hrc=$?
  hsummary=$(grep -E "failed, [0-9]+ error\(s\) of [0-9]+ tests" "$hlog" | tail -n 1)
  herrors=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$hlog")
  grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL|WARNING) .*(m365|FAIL|Traceback)" "$hlog" | head -n 40
  if [ -n "$hsummary" ]; then
    hr_total=$(sed -E 's/.* of ([0-9]+) tests.*/\1/' <<<"$hsummary")
    hr_failed=$(($(sed -E 's/.* ([0-9]+) failed, ([0-9]+) error.*/\1+\2/' <<<"$hsummary")))
  else
    hr_total=$(grep -cE "Starting .*\.test_" "$hlog")
    hr_failed=$herrors
  fi
  if [ "$hrc" -ne 0 ] || [ "$herrors" -gt 0 ]; then
    [ "$hr_failed" -eq 0 ] && hr_failed=1
  fi
  if [ "$hr_total" -eq 0 ]; then
    echo "odoo: no m365_sync_hr test ran (see $hlog)"
    hr_failed=1
  elif [ "$hr_failed" -eq 0 ]; then
    echo "odoo: uninstalling m365_sync_hr"
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell "${ODOO_ARGS[@]}" -d "$hdb" --no-http \
      >"$logdir/odoo-uninstall-hr.log" 2>&1 <<'PY'
module = env["ir.module.module"].search([("name", "=", "m365_sync_hr")])
module.button_immediate_uninstall()
env.cr.commit()
env.cr.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'm365_work_location_event'")
left = env.cr.fetchone()[0]
env.cr.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'hr_leave' AND column_name LIKE 'm365%'")
columns = env.cr.fetchone()[0]
state = module.state
base = env["ir.module.module"].search([("name", "=", "m365_sync")]).state
print("M365-HR-UNINSTALL state=%s m365_sync=%s tables_left=%s columns_left=%s" % (state, base, left, columns))
PY
    if grep -q "M365-HR-UNINSTALL state=uninstalled m365_sync=installed tables_left=0 columns_left=0" \
      "$logdir/odoo-uninstall-hr.log"; then
      echo "odoo: m365_sync_hr uninstall left m365_sync installed and nothing of its own"
    else
      echo "odoo: m365_sync_hr uninstall FAILED (see $logdir/odoo-uninstall-hr.log)"
      grep -E "M365-HR-UNINSTALL|ERROR|Error" "$logdir/odoo-uninstall-hr.log" | head -n 20
      uninstall_rc=1
    fi
  fi
  echo "odoo: m365_sync_hr: $((hr_total - hr_failed)) passed, $hr_failed failed"
else
  echo "odoo: m365_sync_hr skipped (hr_holidays or hr_homeworking missing from \$ODOO_SRC)"
fi

total=$((total + queue_total + hr_total))
failed=$((failed + queue_failed + hr_failed))
echo "odoo: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$uninstall_rc" -eq 0 ]
