"""The busy-time shard count moved from the job-queue glue addon into m365_sync.

m365_sync reads the setting (the cron, the button and the queue run the same
shards), so it owns it now: ``m365_sync.busy_shards`` (Settings → Microsoft 365 →
Calendar busy time). A value saved under the glue addon's old key
``m365_sync_queue.busy_shards`` is carried over, unless the new key was set
already, and the old key is removed so that nothing reads a stale copy.
"""

OLD_KEY = "m365_sync_queue.busy_shards"
NEW_KEY = "m365_sync.busy_shards"


def migrate(cr, version):
    if not version:
        return
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (OLD_KEY,))
    row = cr.fetchone()
    if row is None:
        return
    cr.execute("SELECT 1 FROM ir_config_parameter WHERE key = %s", (NEW_KEY,))
    if cr.fetchone() is None:
        cr.execute(
            "INSERT INTO ir_config_parameter (key, value, create_date, write_date) "
            "VALUES (%s, %s, now() at time zone 'UTC', now() at time zone 'UTC')",
            (NEW_KEY, row[0]),
        )
    cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", (OLD_KEY,))
