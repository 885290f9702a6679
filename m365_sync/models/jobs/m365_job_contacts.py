"""Organisation-wide contact sync: every Microsoft 365 user becomes an Odoo contact.

One unit of work (``m365.job``) is "synchronise the contacts of one tenant",
started by the hourly cron for every tenant whose interval has passed, or by the
*Sync contacts now* button (:meth:`_m365_sync`). It reads one users-delta round
through ``m365_graph`` (the baseline on the first run, only changes afterwards), lets
:mod:`m365_graph.sync.contacts` decide what each user means for Odoo, and applies those
decisions to ``res.partner`` in batches:

* each batch is written in a savepoint and committed (``_commit_progress``); if a
  batch fails, its users are written one by one so that a single bad record is
  skipped and named on the run instead of failing everything;
* the delta link is stored only after a complete round: when Graph fails midway,
  what was read is applied, the run is marked failed, and the next run reads the
  same changes again from the stored link — applying a change twice writes nothing;
* an expired link (Graph's ``syncStateNotFound``, or a link older than the token
  lifetime) starts a new baseline that matches the existing contacts by Graph id;
  users missing from a complete baseline were deleted meanwhile and are archived.

Nothing here reads Graph JSON or decides field values: the model fetches partners,
hands their values to the pure functions and writes what they return.
"""

import dataclasses
import logging
from collections import Counter, defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from m365_graph import (
    GraphError,
    GraphUnavailable,
    NotFound,
    Removed,
    get_users,
    users_delta,
)
from m365_graph.sync.contacts import (
    CONTACT_SELECT,
    DIRECTORY_FIELDS,
    OWNED_FIELDS,
    Candidate,
    ContactPlan,
    ContactSettings,
    Holder,
    absent_after_baseline,
    delta_key,
    delta_link_expired,
    merge_state,
    needs_full_read,
    partner_changes,
    pick_partner,
    plan_removed,
    plan_user,
    resolve_duplicates,
    user_from_state,
)

from .m365_job import M365LockLost

_logger = logging.getLogger(__name__)

#: A failed run is retried after this long, whatever the tenant's interval.
RETRY_AFTER_FAILURE = timedelta(hours=1)
#: First key of the advisory lock of a tenant's contact sync (the second is its id).
LOCK_CLASS = 365_006
#: The sync's circuit breaker: seconds of waiting on Graph and failed requests in
#: a row before it stops as "Graph unavailable" (a failed run is retried sooner).
CONTACT_BUDGET = {"max_wait": 60.0, "max_failures": 8}
#: Graph reads partial users in full through $batch (20 per round trip).
FULL_READ_CHUNK = 200
#: Skipped users named on one run (a count is given for the rest).
MAX_DETAIL_LINES = 500
#: How the ORM writes synchronised contacts: no chatter noise per field and contact.
WRITE_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class _Round:
    """What one run knows while it applies a users-delta round (plain Python)."""

    def __init__(self, tenant, run, settings):
        self.tenant = tenant
        self.run = run
        self.settings = settings
        self.linked = {}  # Graph user id -> res.partner (linked, visible to the company)
        self.graph = {}  # Graph user id -> merged Graph properties
        self.claimed = set()  # partner ids matched by e-mail in this run
        self.not_imported = Counter()  # retired users without a contact, by reason
        self.detail_lines = 0
        self.detail_dropped = 0
        self.totals = Counter()

    def snapshot(self):
        """What a batch changes in memory, to undo it when its savepoint is rolled back."""
        return dict(self.linked), set(self.claimed), Counter(self.not_imported)

    def restore(self, snapshot):
        linked, claimed, not_imported = snapshot
        self.linked, self.claimed, self.not_imported = dict(linked), set(claimed), not_imported


class M365JobContacts(models.AbstractModel):
    _name = "m365.job.contacts"
    _inherit = "m365.job.tenant"
    _description = "Microsoft 365 job: contact sync"

    _m365_job_kind = "contacts"
    _m365_tenant_switch = "contact_sync"
    _m365_lock_class = LOCK_CLASS
    _m365_budget = CONTACT_BUDGET
    #: The unit commits after every batch and keeps a savepoint per batch.
    _m365_unit_savepoint = False
    #: Contacts written per transaction.
    _m365_batch_size = 500
    #: Users per Graph page (``Prefer: odata.maxpagesize``; Graph's maximum is 999).
    _m365_page_size = 999

    # ------------------------------------------------------------------
    # The unit of work: one tenant (its id)
    # ------------------------------------------------------------------
    @api.model
    def _m365_units(self, due_only=True):
        """Tenants with contact sync on and due, and tenants with a run to close."""
        tenants = self._m365_switched_on_tenants()
        if due_only:
            tenants = tenants.filtered(self._m365_due)
        tenants |= tenants.browse(self._m365_running_units()).exists()
        return tenants.ids

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_CLASS, unit

    @api.model
    def _m365_unit_due(self, unit):
        return self._m365_due(self._m365_unit_tenant(unit))

    @api.model
    def _m365_due(self, tenant):
        interval = timedelta(hours=tenant.contact_interval_hours)
        if tenant._m365_due("contacts", interval):
            return True
        last = self._m365_last_tenant_run(tenant)
        return last.state == "failed" and tenant._m365_due("contacts", RETRY_AFTER_FAILURE)

    @api.model
    def _m365_last_tenant_run(self, tenant):
        return (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [("tenant_id", "=", tenant.id), ("kind", "=", "contacts")],
                limit=1,
            )
        )

    @api.model
    def _m365_sync(self, tenant, from_button=False):
        """Synchronise the contacts of ``tenant`` now; returns the ``m365.sync.run``.

        Failures end up on the run (state *failed*, message in plain words); the
        button shows them, a cron goes on with the next tenant. While another worker
        synchronises the tenant, the button says so and the cron gets the last run.
        """
        tenant = tenant.sudo()
        run = self._m365_run_unit(tenant.id, due_only=False)
        if run is None:
            message = self.env._(
                "A contact sync of %(company)s is already running; wait until it ends.",
                company=tenant.company_id.name,
            )
            if from_button:
                raise UserError(message)
            _logger.info("Microsoft 365 contacts: %s", message)
            return self._m365_last_tenant_run(tenant)
        return run or self._m365_last_tenant_run(tenant)

    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self.env["m365.tenant"].sudo().browse(unit)
        client = None
        try:
            client = tenant._m365_graph_client()
            client.budget = self._m365_new_budget()
            self._m365_run_round(tenant, run, client)
        except M365LockLost:
            raise
        except Exception as exc:  # every failure is recorded on the run
            _logger.warning("Microsoft 365 contact sync of tenant %s failed: %s", tenant.id, exc)
            if isinstance(exc, GraphUnavailable):
                message = self.env._("Failed — Microsoft Graph unavailable: %(error)s", error=exc)
            elif isinstance(exc, (GraphError, UserError)):
                message = str(exc)
            else:
                message = self.env._(
                    "The contact sync stopped on an unexpected error: %(error)s", error=exc
                )
            if not (run.created or run.updated or run.deleted):
                message += " " + self.env._("No contact was changed.")
            run._m365_fail(message)
        finally:
            if client is not None:
                run._m365_add_stats(client.counters.snapshot())
                client.close()

    # ------------------------------------------------------------------
    # One round
    # ------------------------------------------------------------------
    @api.model
    def _m365_run_round(self, tenant, run, client):
        settings = ContactSettings(include_guests=tenant.contact_include_guests)
        key = delta_key(
            settings, CONTACT_SELECT, directory=f"{tenant.azure_tenant}|{tenant.graph_url}"
        )
        link = tenant.contact_delta_link or None
        why_baseline = None
        if link and tenant.contact_delta_key != key:
            link, why_baseline = None, self.env._("the tenant or the contact settings changed")
        elif link and delta_link_expired(tenant.contact_delta_date, fields.Datetime.now()):
            link, why_baseline = None, self.env._("the last complete sync is over 7 days old")
        result = users_delta(client, link, select=CONTACT_SELECT, page_size=self._m365_page_size)
        if result.restarted:
            why_baseline = self.env._("Microsoft Graph expired the saved sync state")
        baseline = link is None or result.restarted
        state = _Round(tenant, run, settings)

        plans = self._m365_plan(state, client, result)
        total = len(plans)
        done = 0
        for start in range(0, total, self._m365_batch_size):
            batch = plans[start : start + self._m365_batch_size]
            self._m365_apply(state, batch)
            done += len(batch)
            remaining = self._m365_commit_progress(len(batch), remaining=total - done)
            if remaining <= 0 and done < total:
                self._m365_flush_notes(state)
                run._m365_fail(
                    self._m365_summary(state, result, baseline, why_baseline)
                    + " "
                    + self.env._(
                        "Stopped after %(done)s of %(total)s users: the scheduled job's "
                        "time limit was reached. The next run continues.",
                        done=done,
                        total=total,
                    )
                )
                return

        if not result.complete:
            self._m365_flush_notes(state)
            prefix = (
                self.env._("Failed — Microsoft Graph unavailable.") + " "
                if isinstance(result.error, GraphUnavailable)
                else ""
            )
            run._m365_fail(
                prefix
                + self._m365_summary(state, result, baseline, why_baseline)
                + " "
                + self.env._(
                    "Reading the directory stopped after %(pages)s page(s): %(error)s "
                    "What was read is saved; the next run reads these changes again.",
                    pages=result.pages,
                    error=result.error,
                )
            )
            return
        if baseline:
            self._m365_sweep(state, result)
        adopted = self._m365_adopt_user_partners(state)
        if adopted:
            state.totals["updated"] += adopted
            run._m365_count(updated=adopted)
        self._m365_flush_notes(state)
        tenant.write(
            {
                "contact_delta_link": result.delta_link,
                "contact_delta_date": fields.Datetime.now(),
                "contact_delta_key": key,
            }
        )
        run._m365_done(self._m365_summary(state, result, baseline, why_baseline))

    @api.model
    def _m365_summary(self, state, result, baseline, why_baseline):
        totals = state.totals
        text = self.env._(
            "%(read)s user(s) read: %(created)s contact(s) created, %(updated)s updated, "
            "%(archived)s archived, %(skipped)s skipped.",
            read=len(result.items) + len(result.removed),
            created=totals["created"],
            updated=totals["updated"],
            archived=totals["deleted"],
            skipped=state.run.skipped,
        )
        if baseline:
            text += " " + (
                self.env._("Full read of the directory (%(why)s).", why=why_baseline)
                if why_baseline
                else self.env._("Full read of the directory.")
            )
        return text

    # ------------------------------------------------------------------
    # Planning: Graph users -> decisions (m365_graph.sync.contacts)
    # ------------------------------------------------------------------
    @api.model
    def _m365_plan(self, state, client, result):
        """One plan per user of the round, duplicates resolved across the whole round."""
        ids = [user.id for user in result.items] + [removed.id for removed in result.removed]
        state.linked = self._m365_linked_partners(state.tenant, ids)
        partial = {}
        for user in result.items:
            stored = self._m365_stored_graph(state.linked.get(user.id))
            if needs_full_read(user, stored):
                partial[user.id] = user
            else:
                state.graph[user.id] = merge_state(stored, user)
        plans = []
        gone = {}
        if partial:
            plans_from_reads, gone = self._m365_read_full(state, client, list(partial))
            plans += plans_from_reads
        for user in result.items:
            if user.id in state.graph:
                plans.append(plan_user(user_from_state(state.graph[user.id]), state.settings))
        for removed in [*result.removed, *gone.values()]:
            partner = state.linked.get(removed.id)
            label = f"{partner.name} <{partner.email}>" if partner else None
            plans.append(plan_removed(removed.id, removed.reason, label))
        for skipped in result.skipped:
            plans.append(
                ContactPlan(
                    user_id=skipped.id or "",
                    action="skip",
                    label=skipped.id or self.env._("a user without id"),
                    reason=skipped.reason,
                )
            )
        holders = self._m365_address_holders(state, plans, set(ids))
        losers = resolve_duplicates(plans, linked=set(state.linked), holders=holders)
        return [
            ContactPlan(plan.user_id, "skip", plan.label, reason=losers[plan.user_id])
            if plan.user_id in losers
            else plan
            for plan in plans
        ]

    @api.model
    def _m365_read_full(self, state, client, user_ids):
        """Users a delta round sent partially and Odoo never stored: read them in full."""
        plans, gone = [], {}
        for start in range(0, len(user_ids), FULL_READ_CHUNK):
            chunk = user_ids[start : start + FULL_READ_CHUNK]
            users, errors = get_users(client, chunk, select=CONTACT_SELECT)
            for user_id, user in users.items():
                state.graph[user_id] = merge_state(None, user)
            for user_id, error in errors.items():
                if isinstance(error, NotFound):
                    gone[user_id] = Removed(user_id, "deleted")
                else:
                    plans.append(
                        ContactPlan(
                            user_id,
                            "skip",
                            f"[{user_id}]",
                            reason=self.env._("could not be read in full: %(error)s", error=error),
                        )
                    )
        return plans, gone

    @api.model
    def _m365_linked_partners(self, tenant, user_ids):
        """Partners already linked to these Graph users and visible to the tenant's company."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        linked = {}
        for start in range(0, len(user_ids), 5000):
            chunk = user_ids[start : start + 5000]
            partners = Partner.search(
                [
                    ("m365_user_id", "in", chunk),
                    ("company_id", "in", [False, tenant.company_id.id]),
                ],
                order="company_id, id",
            )
            for partner in partners:
                # A partner of the tenant's company wins over a shared one (NULLs last).
                linked.setdefault(partner.m365_user_id, partner)
        return linked

    @api.model
    def _m365_stored_graph(self, partner):
        if not partner:
            return None
        stored = partner.m365_sync_state or {}
        graph = stored.get("graph") if isinstance(stored, dict) else None
        return graph if isinstance(graph, dict) else None

    @api.model
    def _m365_address_holders(self, state, plans, round_ids):
        """Addresses already carried by a contact of another user (outside this round)."""
        keys = {p.email_key for p in plans if p.action == "upsert" and p.email_key}
        if not keys:
            return {}
        holders = {}
        Partner = self.env["res.partner"].sudo()
        for partner in Partner.search(
            [
                ("m365_user_id", "!=", False),
                ("email_normalized", "in", list(keys)),
                ("company_id", "in", [False, state.tenant.company_id.id]),
            ],
            order="id",
        ):
            key = (partner.email_normalized or "").lower()
            if key in keys and partner.m365_user_id not in round_ids:
                holders.setdefault(
                    key, Holder(partner.m365_user_id, f"{partner.name} <{partner.email}>")
                )
        return holders

    # ------------------------------------------------------------------
    # Applying decisions
    # ------------------------------------------------------------------
    @api.model
    def _m365_apply(self, state, plans):
        """Apply one batch in a savepoint; on failure, user by user (bad ones skipped)."""
        before = state.snapshot()
        try:
            with self.env.cr.savepoint():
                counts, details = self._m365_apply_plans(state, plans)
        except Exception as exc:  # isolate the failing user below
            _logger.info("Microsoft 365 contacts: batch failed (%s), retrying one by one", exc)
            state.restore(before)
            self.env.invalidate_all()
            counts, details = Counter(), []
            for plan in plans:
                before = state.snapshot()
                try:
                    with self.env.cr.savepoint():
                        one_counts, one_details = self._m365_apply_plans(state, [plan])
                except Exception as one_exc:  # recorded on the run
                    state.restore(before)
                    counts["skipped"] += 1
                    details.append(
                        self.env._(
                            "%(user)s: could not be saved in Odoo: %(error)s",
                            user=plan.label,
                            error=one_exc,
                        )
                    )
                    self.env.invalidate_all()
                    continue
                counts.update(one_counts)
                details += one_details
        state.totals.update(counts)
        self._m365_record(state, counts, details)

    @api.model
    def _m365_record(self, state, counts, details):
        kept = details[: max(MAX_DETAIL_LINES - state.detail_lines, 0)]
        state.detail_lines += len(kept)
        state.detail_dropped += len(details) - len(kept)
        values = {name: counts[name] for name in ("created", "updated", "deleted", "skipped")}
        if any(values.values()) or kept:
            # Every named line was counted in "skipped" already: pass the count explicitly.
            state.run._m365_count(skipped_reason="\n".join(kept) or None, **values)

    @api.model
    def _m365_apply_plans(self, state, plans):
        tenant = state.tenant
        counts, details = Counter(), []
        candidates = self._m365_candidates(tenant, plans, state)
        Partner = self.env["res.partner"].sudo().with_context(**WRITE_CONTEXT)
        to_create = []
        for plan in plans:
            partner = state.linked.get(plan.user_id)
            if plan.action == "skip":
                counts["skipped"] += 1
                details.append(f"{plan.label}: {plan.reason}")
                continue
            if plan.action == "retire" and not partner:
                if not plan.removed:  # a disabled account or a guest: say so, once per reason
                    state.not_imported[plan.reason] += 1
                continue
            linking = False
            if not partner:
                chosen = pick_partner(candidates.get(plan.email_key, ()), exclude=state.claimed)
                if chosen is None:
                    to_create.append(plan)
                    continue
                state.claimed.add(chosen)
                partner = Partner.browse(chosen)
                linking = True
            outcome, note = self._m365_update_partner(state, plan, partner, linking)
            if outcome:
                counts[outcome] += 1
            if note:
                counts["skipped"] += 1
                details.append(note)
        if to_create:
            created = Partner.create([self._m365_create_values(state, p) for p in to_create])
            for plan, partner in zip(to_create, created, strict=True):
                state.linked[plan.user_id] = partner
            counts["created"] += len(created)
        return counts, details

    @api.model
    def _m365_adopt_user_partners(self, state):
        """Merge a synchronised contact into the partner of the Odoo user it is.

        A user created before their contact was imported (or by a module that
        bypassed ``res.users.create``) has a partner of their own, and the import
        created a second one for the same person. When an internal user's login or
        e-mail is the address of a contact of this tenant that belongs to no user,
        and the user's partner is not linked to the directory, the imported contact
        is merged into the user's partner with Odoo's own contact merge (references
        follow) and the link moves there: one person, one partner. Runs after every
        round, changed or not. Returns how many partners were merged.
        """
        tenant = state.tenant
        company_ids = [False, tenant.company_id.id]
        users = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", False),
                    ("partner_id.m365_user_id", "=", False),
                    ("partner_id.company_id", "in", company_ids),
                ]
            )
        )
        addresses = {}
        for user in users:
            for address in {(user.partner_id.email_normalized or ""), (user.login or "").lower()}:
                if "@" in address:
                    addresses.setdefault(address, user)
        if not addresses:
            return 0
        synced = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("m365_tenant_id", "=", tenant.id),
                    ("m365_user_id", "!=", False),
                    ("email_normalized", "in", list(addresses)),
                    ("user_ids", "=", False),
                ]
            )
        )
        Merge = self.env["base.partner.merge.automatic.wizard"].sudo()
        merged = 0
        for contact in synced:
            user = addresses.get(contact.email_normalized)
            mine = user.partner_id if user else None
            if not mine or mine.m365_user_id or contact.with_context(active_test=False).user_ids:
                continue
            link = {
                "m365_user_id": contact.m365_user_id,
                "m365_tenant_id": contact.m365_tenant_id.id,
                "m365_sync_state": contact.m365_sync_state,
            }
            # The unique (user id, company) index: the contact lets go of the link first.
            contact.with_context(**WRITE_CONTEXT).write({"m365_user_id": False})
            Merge._merge([contact.id, mine.id], mine, extra_checks=False)
            mine.with_context(**WRITE_CONTEXT).write(link)
            state.linked[link["m365_user_id"]] = mine
            merged += 1
        return merged

    @api.model
    def _m365_candidates(self, tenant, plans, state):
        """Unlinked partners (and partners of users by login) per address of the batch."""
        keys = {
            p.email_key
            for p in plans
            if p.action == "upsert" and p.email_key and p.user_id not in state.linked
        }
        if not keys:
            return {}
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        company_ids = [False, tenant.company_id.id]
        partners = Partner.search(
            [
                ("m365_user_id", "=", False),
                ("email_normalized", "in", list(keys)),
                ("company_id", "in", company_ids),
            ]
        )
        users = (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search([("login", "in", list(keys))])
        )
        by_login = defaultdict(set)
        for user in users:
            if not user.partner_id.m365_user_id and user.partner_id.company_id.id in company_ids:
                by_login[user.login.lower()].add(user.partner_id.id)
        found = defaultdict(set)
        for partner in partners:
            found[(partner.email_normalized or "").lower()].add(partner.id)
        for key, partner_ids in by_login.items():
            found[key] |= partner_ids
        all_ids = set().union(*found.values()) if found else set()
        owners = defaultdict(list)
        for user in (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "in", list(all_ids))])
        ):
            owners[user.partner_id.id].append(user)
        result = {}
        for key, partner_ids in found.items():
            if key not in keys:
                continue
            result[key] = [
                Candidate(
                    partner_id=partner.id,
                    internal_user=any(not u.share for u in owners[partner.id]),
                    user=bool(owners[partner.id]),
                    active=partner.active,
                    is_company=partner.is_company,
                )
                for partner in Partner.browse(sorted(partner_ids))
            ]
        return result

    @api.model
    def _m365_current(self, partner):
        return {name: partner[name] for name in OWNED_FIELDS + DIRECTORY_FIELDS}

    @api.model
    def _m365_update_partner(self, state, plan, partner, linking):
        """Write what changed on one partner; returns (counter name or None, note or None)."""
        stored = partner.m365_sync_state if not linking else None
        stored = stored if isinstance(stored, dict) else {}
        written = stored.get("written") if not linking else None
        values, after = partner_changes(plan, self._m365_current(partner), written)
        note = None
        if values.get("active") is False and self._m365_has_active_user(partner):
            # Odoo refuses to archive the contact of an active user. The decision is
            # remembered (written "active" stays False), so this is reported once.
            values.pop("active")
            note = self.env._(
                "%(user)s: %(reason)s, but the contact belongs to an active Odoo user; "
                "archive the user in Odoo to archive the contact.",
                user=plan.label,
                reason=plan.reason,
            )
        graph = state.graph.get(plan.user_id) or stored.get("graph")
        new_state = {"graph": graph, "written": after}
        visible = bool(values)
        if new_state != stored:
            values["m365_sync_state"] = new_state
        if linking:
            values.update(
                {
                    "m365_user_id": plan.user_id,
                    "m365_tenant_id": state.tenant.id,
                    "category_id": [Command.link(self._m365_category().id)],
                }
            )
        if not values:
            return None, note
        partner.with_context(**WRITE_CONTEXT).write(values)
        state.linked[plan.user_id] = partner
        if values.get("active") is False:
            return "deleted", note
        return ("updated" if visible or linking else None), note

    @api.model
    def _m365_has_active_user(self, partner):
        return bool(
            self.env["res.users"].sudo().search_count([("partner_id", "=", partner.id)], limit=1)
        )

    @api.model
    def _m365_create_values(self, state, plan):
        tenant = state.tenant
        blank = dict.fromkeys(OWNED_FIELDS + DIRECTORY_FIELDS, False) | {"active": True}
        values, after = partner_changes(plan, blank, None)
        values.update(
            {
                "m365_user_id": plan.user_id,
                "m365_tenant_id": tenant.id,
                "m365_sync_state": {"graph": state.graph.get(plan.user_id), "written": after},
                "company_id": tenant.company_id.id,
                "is_company": False,
                "type": "contact",
                "category_id": [Command.link(self._m365_category().id)],
            }
        )
        if tenant.contact_parent_company:
            values["parent_id"] = tenant.company_id.partner_id.id
        return values

    @api.model
    def _m365_category(self):
        """The "Microsoft 365" contact tag (re-created if someone deleted it)."""
        category = self.env.ref("m365_sync.res_partner_category_m365", raise_if_not_found=False)
        if category:
            return category
        Category = self.env["res.partner.category"].sudo()
        return Category.search([("name", "=", "Microsoft 365")], limit=1) or Category.create(
            {"name": "Microsoft 365"}
        )

    @api.model
    def _m365_sweep(self, state, result):
        """After a complete baseline: archive contacts of users the directory no longer lists."""
        seen = {user.id for user in result.items}
        seen |= {removed.id for removed in result.removed}
        seen |= {skipped.id for skipped in result.skipped if skipped.id}
        Partner = self.env["res.partner"].sudo()
        linked = Partner.search(
            [("m365_tenant_id", "=", state.tenant.id), ("m365_user_id", "!=", False)]
        )
        absent = absent_after_baseline(linked.mapped("m365_user_id"), seen)
        if not absent:
            return
        plans = []
        for partner in linked.filtered(lambda p: p.m365_user_id in absent):
            state.linked[partner.m365_user_id] = partner
            plan = plan_removed(
                partner.m365_user_id, "deleted", f"{partner.name} <{partner.email}>"
            )
            reason = self.env._("no longer in the Microsoft 365 directory")
            plans.append(dataclasses.replace(plan, reason=reason))
        for start in range(0, len(plans), self._m365_batch_size):
            batch = plans[start : start + self._m365_batch_size]
            self._m365_apply(state, batch)
            self._m365_commit_progress(len(batch))

    @api.model
    def _m365_flush_notes(self, state):
        """Close the skipped list: one line per reason for users that got no contact
        (disabled accounts, guests), and how many skipped users were not named."""
        lines = [
            self.env._("%(count)s user(s) not imported: %(reason)s", count=count, reason=reason)
            for reason, count in sorted(state.not_imported.items())
        ]
        if state.detail_dropped:
            lines.append(
                self.env._(
                    "… and %(count)s more skipped user(s), not listed here.",
                    count=state.detail_dropped,
                )
            )
        if lines:
            state.run._m365_count(
                skipped=sum(state.not_imported.values()), skipped_reason="\n".join(lines)
            )
        state.not_imported.clear()
        state.detail_dropped = 0
