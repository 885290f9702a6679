#!/usr/bin/env bash
# `make pot`: regenerate the translation templates (i18n/<module>.pot) of the addons
# from a scratch database where they are installed, with the local Odoo at
# $ODOO_SRC (`odoo-bin i18n export`); nothing is fetched. m365_sync_hr is
# installed with the HR apps it glues (hr_holidays, hr_homeworking); m365_sync_queue's
# template is made too when OCA queue_job is in the virtualenv (tools/venv.sh).
# Odoo's exporter takes the terms of the installed records (views, fields, selections,
# data) and the code terms of the module's files: _()/_lt() in Python, _t() in
# static/src/**/*.js and the QWeb templates in static/src/**/*.xml.
# Then each i18n/de.po is brought in line with its new template (tools/po_merge.py:
# translations kept, new msgids left empty for a translator, stale ones dropped);
# tests/tools/test_translations.py names what is left to translate.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
VENV=${VENV:-.venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
db=${M365_POT_DB:-m365_pot}

if [ ! -x "$ODOO_SRC/odoo-bin" ]; then
  echo "make pot: no Odoo 19 source at $ODOO_SRC (odoo-bin not found); see README, Two commands" >&2
  exit 1
fi
source tools/odoo-env.sh || exit 1

modules=m365_sync,m365_sync_hr
[ -f "$ODOO_VENV_ADDONS/queue_job/__manifest__.py" ] && modules=$modules,m365_sync_queue
dropdb_quiet "$db"
echo "make pot: installing $modules (with hr_holidays, hr_homeworking) in scratch database $db"
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -d "$db" -i "hr_holidays,hr_homeworking,$modules" \
  --without-demo --stop-after-init --no-http --log-level=warn ||
  { echo "make pot: installing $modules failed" >&2; dropdb_quiet "$db"; exit 1; }

# `odoo-bin i18n` reads only -c and -d: the addons path and database go in a config file.
conf=$(mktemp)
trap 'rm -f "$conf"; dropdb_quiet "$db"' EXIT
cat >"$conf" <<CONF
[options]
addons_path = $ODOO_ADDONS_PATH
db_host = $PGHOST
db_port = $PGPORT
db_user = $ODOO_DB_USER
CONF
for module in ${modules//,/ }; do
  mkdir -p "$module/i18n"
  "$VENV/bin/python" "$ODOO_SRC/odoo-bin" i18n export -c "$conf" -d "$db" "$module" ||
    { echo "make pot: exporting $module failed" >&2; exit 1; }
  echo "make pot: $module/i18n/$module.pot ($(( $(grep -c "^msgid " "$module/i18n/$module.pot") - 1 )) msgids)"
done
"$VENV/bin/python" tools/po_merge.py --lang de ${modules//,/ } ||
  { echo "make pot: merging the templates into de.po failed" >&2; exit 1; }
