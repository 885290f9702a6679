#!/usr/bin/env bash
# Create or refresh the project virtualenv. Installs the pure packages with
# their sandbox and test extras and, when Odoo 19 is at $ODOO_SRC, Odoo's own
# requirements (used as constraints too, so our packages never move a version
# Odoo pins). Re-runs only when an input changed.
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
echo "$want" >"$stamp"
