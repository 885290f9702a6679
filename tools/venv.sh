#!/usr/bin/env bash
# Create or refresh the project virtualenv. Installs the pure packages with
# their sandbox and test extras (pytest-odoo among them, pinned in
# requirements-test.txt) and, when Odoo 19 is at $ODOO_SRC, Odoo's own
# requirements (used as constraints too, so our packages never move a version
# Odoo pins) and OCA queue_job. Re-runs only when an input changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
stamp="$VENV/.m365-stamp"

odoo_reqs=""
if [ -x "$ODOO_SRC/odoo-bin" ] && [ -f "$ODOO_SRC/requirements.txt" ]; then
  odoo_reqs="$VENV/odoo-requirements.txt"
fi

want=$(cat setup.py requirements.txt requirements-test.txt tools/venv.sh 2>/dev/null | sha1sum | cut -c1-12)
[ -n "$odoo_reqs" ] && want="$want-$(sha1sum "$ODOO_SRC/requirements.txt" | cut -c1-12)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

echo "venv: preparing $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip_install() {
  # The machine's pip configuration may name local index folders that do not
  # exist; pip warns about each one. Show the real messages only.
  local rc=0
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >"$VENV/pip.log" 2>&1 || rc=$?
  grep -v -E "is ignored: it is neither a file nor a directory" "$VENV/pip.log" || true
  return $rc
}
pip_install --upgrade pip "setuptools<81" wheel

constraints=()
if [ -n "$odoo_reqs" ]; then
  # Odoo's requirements minus what this project never needs: python-ldap (auth_ldap,
  # needs system headers) and lines a vendored tree may carry for unrelated addons.
  grep -v -i -E '^[[:space:]]*(python-ldap|numpy|opencv[-a-z]*|onnxruntime|geopy|pyjwt)([=<>~ ;]|$)' \
    "$ODOO_SRC/requirements.txt" >"$odoo_reqs"
  echo "venv: installing Odoo's requirements from $ODOO_SRC"
  pip_install -r "$odoo_reqs"
  # A constraints file may not carry extras or blank markers; keep pinned lines only.
  grep -E '==' "$odoo_reqs" | sed 's/#.*//' >"$VENV/odoo-constraints.txt"
  constraints=(-c "$VENV/odoo-constraints.txt")
fi
pip_install "${constraints[@]}" -r requirements.txt -r requirements-test.txt
pip_install "${constraints[@]}" --no-deps -e .

# OCA queue_job, for the scale-out glue addon. The wheel declares a dependency
# on an `odoo` distribution, which is not on PyPI (Odoo comes from $ODOO_SRC),
# hence --no-deps; what its code really imports besides Odoo and Odoo's own
# requirements (requests, psycopg2, lxml, werkzeug, dateutil) is openupgradelib,
# which its manifest lists as an external dependency, so Odoo refuses to
# install the addon without it. The addon lands in site-packages/odoo/addons/
# queue_job; tools/odoo-env.sh puts that folder on the addons path.
QUEUE_JOB_VERSION=19.0.2.4.0.1
OPENUPGRADELIB_VERSION=3.13.7
if [ -n "$odoo_reqs" ]; then
  echo "venv: installing odoo-addon-queue-job $QUEUE_JOB_VERSION (--no-deps)"
  pip_install "${constraints[@]}" "openupgradelib==$OPENUPGRADELIB_VERSION"
  pip_install --no-deps "odoo-addon-queue-job==$QUEUE_JOB_VERSION"
else
  # No Odoo here: drop queue_job again, and the then empty odoo/addons folder,
  # which would make `import odoo` find an empty namespace package.
  if "$VENV/bin/python" -m pip show -q odoo-addon-queue-job >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip uninstall -q -y odoo-addon-queue-job >/dev/null 2>&1 || true
  fi
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  rmdir "$site/odoo/addons" "$site/odoo" 2>/dev/null || true
fi
echo "$want" >"$stamp"
