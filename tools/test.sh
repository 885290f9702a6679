#!/usr/bin/env bash
# `make test`: the pure suites (pytest, no Odoo) and, when Odoo 19 is at
# $ODOO_SRC, the addon's Odoo suites on a fresh database: first with odoo-bin
# --test-tags (tools/odoo-tests.sh, the main Odoo runner), then the same suites
# under pytest-odoo (tools/pytest-odoo.sh). Ends with one line saying what ran
# and what was skipped. Any failure, or a suite that collected no test at all,
# makes the whole run fail. Modes: all, pure, odoo, pytest-odoo.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
VENV=${VENV:-.venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}

tools/venv.sh || { echo "make test: FAILED preparing the virtualenv"; exit 1; }
py="$VENV/bin/python"
rc=0
pure="not run"
odoo="not run"
pytest_odoo="not run"

if [ "$what" = all ] || [ "$what" = pure ]; then
  # -p no:odoo is in pyproject's addopts too: the pytest-odoo plugin imports
  # odoo when loaded, and the pure suites must run where Odoo is not.
  "$py" -m pytest -q -p no:cacheprovider -p no:odoo tests
  prc=$?
  case $prc in
    0) pure="passed" ;;
    5) pure="FAILED (no tests collected)"; rc=1 ;;
    *) pure="FAILED (pytest exit $prc)"; rc=1 ;;
  esac
fi

if [ "$what" = all ] || [ "$what" = odoo ]; then
  if [ -x "$ODOO_SRC/odoo-bin" ]; then
    tools/odoo-tests.sh
    orc=$?
    case $orc in
      0) odoo="passed" ;;
      *) odoo="FAILED (exit $orc)"; rc=1 ;;
    esac
  else
    odoo="skipped: no Odoo 19 at $ODOO_SRC (set ODOO_SRC)"
  fi
fi

if [ "$what" = all ] || [ "$what" = pytest-odoo ]; then
  if [ -x "$ODOO_SRC/odoo-bin" ]; then
    tools/pytest-odoo.sh
    porc=$?
    case $porc in
      0) pytest_odoo="passed" ;;
      *) pytest_odoo="FAILED (exit $porc)"; rc=1 ;;
    esac
  else
    pytest_odoo="skipped: no Odoo 19 at $ODOO_SRC (set ODOO_SRC)"
  fi
fi

case $what in
  pytest-odoo) echo "make test: Odoo suites under pytest-odoo $pytest_odoo" ;;
  all) if [ -x "$ODOO_SRC/odoo-bin" ]; then
      echo "make test: pure suites $pure; Odoo suites $odoo; Odoo suites under pytest-odoo $pytest_odoo"
    else
      echo "make test: pure suites $pure; Odoo suites $odoo"
    fi ;;
  *) echo "make test: pure suites $pure; Odoo suites $odoo" ;;
esac
exit $rc
