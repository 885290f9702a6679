"""Contact sync decisions (m365_graph.sync.contacts): cleaning, planning, duplicates,
matching and the three-way ownership merge — examples first, then properties."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m365_graph.core.types import GraphUser
from m365_graph.sync.contacts import (
    CONTACT_SELECT,
    DIRECTORY_FIELDS,
    OWNED_FIELDS,
    Candidate,
    ContactPlan,
    ContactSettings,
    Holder,
    absent_after_baseline,
    clean_email,
    clean_phone,
    clean_text,
    delta_key,
    delta_link_expired,
    email_key,
    graph_state,
    merge_state,
    needs_full_read,
    partner_changes,
    pick_partner,
    plan_removed,
    plan_user,
    resolve_duplicates,
    user_from_state,
)

ADELE = {
    "id": "a1",
    "displayName": "Adele Vance",
    "givenName": "Adele",
    "surname": "Vance",
    "mail": "Adele.Vance@contoso.com",
    "userPrincipalName": "adele@contoso.onmicrosoft.com",
    "jobTitle": "Retail Manager",
    "department": "Retail",
    "officeLocation": "18/2111",
    "businessPhones": ["+1 425 555 0109"],
    "mobilePhone": "+1 425 555 0199",
    "accountEnabled": True,
    "userType": "Member",
}


def user(**changes):
    return GraphUser.from_graph({**ADELE, **changes})


# --------------------------------------------------------------------------- cleaning


def test_clean_text_examples():
    assert clean_text("  Adele\tVance \n") == "Adele Vance"
    assert clean_text("Ad\x00ele\u200b Vance") == "Adele Vance"
    assert clean_text("Line\u2028break") == "Line break"
    assert clean_text("lone \ud800 surrogate") == "lone \ufffd surrogate"
    assert clean_text("   ") is None
    assert clean_text(None) is None
    assert clean_text(42) is None
    long = clean_text("x" * 500, limit=128)
    assert len(long) == 128 and long.endswith("…")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+49 30 1234-56", "+49 30 1234-56"),
        ("(425) 555-0109 ext. 12", "(425) 555-0109 ext. 12"),
        ("  +1\u00a0425 555 0109 ", "+1 425 555 0109"),
        ("n/a", None),
        ("-", None),
        ("12", None),
        ("call reception", None),
        ("1" * 65, None),
        ("", None),
        (None, None),
    ],
)
def test_clean_phone_examples(raw, expected):
    assert clean_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "upn", "expected"),
    [
        (" Adele.Vance@Contoso.com ", False, "Adele.Vance@Contoso.com"),
        ("adele@contoso.onmicrosoft.com", True, "adele@contoso.onmicrosoft.com"),
        ("jordan_fabrikam.com#EXT#@contoso.onmicrosoft.com", True, None),
        ("a@b@c.com", False, None),
        ("adele vance@contoso.com", False, None),
        ("adele@localhost", False, None),
        ("adele@", False, None),
        ("@contoso.com", False, None),
        ("x" * 250 + "@contoso.com", False, None),
        ("", False, None),
        (None, False, None),
    ],
)
def test_clean_email_examples(raw, upn, expected):
    assert clean_email(raw, upn=upn) == expected


def test_email_key_is_trimmed_and_case_insensitive():
    assert email_key("  Adele.Vance@CONTOSO.com") == "adele.vance@contoso.com"
    assert email_key("not an address") is None


# --------------------------------------------------------------------------- planning


def test_member_becomes_a_contact_with_every_owned_field():
    plan = plan_user(user())
    assert plan.action == "upsert"
    assert plan.email_key == "adele.vance@contoso.com"
    assert dict(plan.owned) == {
        "name": "Adele Vance",
        "email": "Adele.Vance@contoso.com",
        "phone": "+1 425 555 0109",
        "m365_mobile": "+1 425 555 0199",
        "function": "Retail Manager",
        "active": True,
    }
    assert dict(plan.directory) == {
        "m365_upn": "adele@contoso.onmicrosoft.com",
        "m365_department": "Retail",
        "m365_office_location": "18/2111",
        "m365_user_type": "member",
        "m365_account_enabled": True,
    }
    assert set(plan.owned) == set(OWNED_FIELDS)
    assert set(plan.directory) == set(DIRECTORY_FIELDS)
    assert plan.label == "Adele Vance <Adele.Vance@contoso.com>"


def test_without_mail_the_upn_is_the_address():
    plan = plan_user(user(mail=None))
    assert plan.owned["email"] == "adele@contoso.onmicrosoft.com"


def test_without_mail_or_upn_the_user_is_skipped_with_the_reason():
    plan = plan_user(user(mail=None, userPrincipalName=None))
    assert plan.action == "skip"
    assert "no usable e-mail address" in plan.reason
    assert plan.label == "Adele Vance [a1]"


def test_disabled_user_is_retired():
    plan = plan_user(user(accountEnabled=False))
    assert plan.action == "retire"
    assert plan.owned == {"active": False}
    assert plan.directory["m365_account_enabled"] is False


def test_guests_are_retired_unless_included():
    guest = user(
        userType="Guest",
        mail="jordan@fabrikam.com",
        userPrincipalName="jordan_fabrikam.com#EXT#@contoso.onmicrosoft.com",
    )
    assert plan_user(guest).action == "retire"
    included = plan_user(guest, ContactSettings(include_guests=True))
    assert included.action == "upsert"
    assert included.owned["email"] == "jordan@fabrikam.com"
    no_mail = user(
        userType="Guest", mail=None, userPrincipalName="j_f.com#EXT#@contoso.onmicrosoft.com"
    )
    assert plan_user(no_mail, ContactSettings(include_guests=True)).action == "skip"


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"displayName": "   "}, "Adele Vance"),
        ({"displayName": None, "givenName": None}, "Vance"),
        ({"displayName": "", "givenName": None, "surname": None}, "Adele.Vance@contoso.com"),
        ({"displayName": "Ad\x00ele\n(Retail)"}, "Adele (Retail)"),
    ],
)
def test_fallback_names(changes, name):
    assert plan_user(user(**changes)).owned["name"] == name


def test_first_usable_business_phone_and_odd_values():
    plan = plan_user(
        user(businessPhones=["n/a", " +49 30 123 "], mobilePhone="-", jobTitle="x" * 300)
    )
    assert plan.owned["phone"] == "+49 30 123"
    assert plan.owned["m365_mobile"] is None
    assert len(plan.owned["function"]) == 128


def test_removed_users_are_retired():
    soft = plan_removed("a1", "changed")
    assert soft.action == "retire" and "restorable" in soft.reason
    assert plan_removed("a1", "deleted").owned == {"active": False}


# --------------------------------------------------------------------------- state


def test_partial_delta_item_merges_into_the_stored_state():
    stored = graph_state(user())
    change = GraphUser.from_graph({"id": "a1", "jobTitle": "Director", "mobilePhone": None})
    merged = merge_state(stored, change)
    assert merged["jobTitle"] == "Director"
    assert merged["mobilePhone"] is None
    assert merged["displayName"] == "Adele Vance"
    assert user_from_state(merged) == GraphUser.from_graph(merged)
    assert not needs_full_read(change, stored)
    assert needs_full_read(change, None)
    assert not needs_full_read(user(), None)


def test_state_is_storable_json():
    state = graph_state(user(displayName="A\x00B \ud800", businessPhones=["1", "2"]))
    assert state["displayName"] == "AB \ufffd"
    assert state["businessPhones"] == ["1", "2"]
    assert user_from_state({"id": 3}) is None
    assert user_from_state({"id": "x", "accountEnabled": "yes"}) is None
    assert user_from_state(None) is None


# --------------------------------------------------------------------------- duplicates


def _upsert(user_id, email, guest=False):
    return plan_user(
        user(
            id=user_id,
            displayName=f"User {user_id}",
            mail=email,
            userType="Guest" if guest else "Member",
        ),
        ContactSettings(include_guests=True),
    )


def test_duplicate_addresses_keep_the_member_then_the_linked_then_the_smallest_id():
    plans = [_upsert("c", "x@contoso.com"), _upsert("b", "X@contoso.com", guest=True)]
    plans.append(_upsert("d", "x@contoso.com"))
    losers = resolve_duplicates(plans)
    assert set(losers) == {"b", "d"}
    assert "kept for User c <x@contoso.com>" in losers["d"]
    assert "duplicate e-mail address x@contoso.com" in losers["b"]
    assert set(resolve_duplicates(plans, linked={"d"})) == {"b", "c"}


def test_duplicate_of_an_existing_contact_keeps_the_existing_one():
    plans = [_upsert("n", "x@contoso.com")]
    losers = resolve_duplicates(plans, holders={"x@contoso.com": Holder("old", "Old <x@c>")})
    assert "already the contact of Old <x@c>" in losers["n"]
    # The holder itself being in the round is no conflict.
    assert resolve_duplicates(plans, holders={"x@contoso.com": Holder("n", "N")}) == {}


def test_retired_and_skipped_users_claim_no_address():
    plans = [_upsert("a", "x@contoso.com"), plan_user(user(id="b", accountEnabled=False))]
    plans.append(plan_user(user(id="c", mail="x@contoso.com", accountEnabled=False)))
    assert resolve_duplicates(plans) == {}


# --------------------------------------------------------------------------- matching


def test_pick_partner_prefers_internal_users_and_ignores_companies():
    candidates = [
        Candidate(5),
        Candidate(3, is_company=True),
        Candidate(9, user=True, internal_user=True, active=False),
        Candidate(7, user=True),
        Candidate(2, active=False),
    ]
    assert pick_partner(candidates) == 9
    assert pick_partner(candidates, exclude={9}) == 7
    assert pick_partner(candidates, exclude={9, 7}) == 5
    assert pick_partner([Candidate(2, active=False), Candidate(3, is_company=True)]) is None


# --------------------------------------------------------------------------- ownership


EMPTY = dict.fromkeys(OWNED_FIELDS + DIRECTORY_FIELDS, False)


def apply(current, values):
    return {**current, **values}


def test_new_contact_gets_every_value_and_a_second_pass_writes_nothing():
    plan = plan_user(user())
    values, written = partner_changes(plan, {**EMPTY, "active": True}, None)
    assert values["name"] == "Adele Vance" and values["m365_mobile"] == "+1 425 555 0199"
    assert "active" not in values
    again, written_again = partner_changes(plan, apply(EMPTY, values) | {"active": True}, written)
    assert again == {}
    assert written_again == written


def test_odoo_edit_stays_until_microsoft_365_changes_the_value():
    plan = plan_user(user())
    current = {**EMPTY, "active": True}
    values, written = partner_changes(plan, current, None)
    current = apply(current, values) | {"phone": "+49 30 999 (desk)"}
    again, _ = partner_changes(plan, current, written)
    assert again == {}, "a local edit of a synced value is kept"
    changed = plan_user(user(businessPhones=["+1 425 555 0000"]))
    values, _ = partner_changes(changed, current, written)
    assert values == {"phone": "+1 425 555 0000"}


def test_cleared_in_microsoft_365_is_cleared_only_if_the_sync_set_it():
    current = {**EMPTY, "active": True}
    values, written = partner_changes(plan_user(user()), current, None)
    current = apply(current, values)
    cleared = plan_user(user(mobilePhone=None, jobTitle=None))
    values, written_after = partner_changes(cleared, current, written)
    assert values == {"m365_mobile": False, "function": False}
    assert written_after["m365_mobile"] is None
    # A value typed in Odoo (the sync never wrote one) survives an empty Graph value.
    typed = {**current, "m365_mobile": "+49 171 000", "function": "Boss"}
    values, _ = partner_changes(cleared, typed, written_after)
    assert values == {}


def test_matched_partner_keeps_values_the_sync_never_had():
    existing = {**EMPTY, "name": "A. Vance", "phone": "+49 30 1", "active": True}
    plan = plan_user(user(businessPhones=[], mobilePhone=None))
    values, written = partner_changes(plan, existing, None)
    assert "phone" not in values
    assert values["name"] == "Adele Vance"
    assert written["phone"] is None


def test_archive_and_unarchive():
    current = {**EMPTY, "active": True}
    values, written = partner_changes(plan_user(user()), current, None)
    current = apply(current, values)
    values, written = partner_changes(plan_user(user(accountEnabled=False)), current, written)
    assert values == {"active": False, "m365_account_enabled": False}
    current = apply(current, values)
    values, written = partner_changes(plan_user(user()), current, written)
    assert values == {"active": True, "m365_account_enabled": True}
    # Archived by hand while enabled in Microsoft 365: left archived.
    current = apply(current, values) | {"active": False}
    assert partner_changes(plan_user(user()), current, written)[0] == {}
    # Then deleted in Microsoft 365: already archived, only the directory flag changes.
    values, _ = partner_changes(plan_removed("a1", "deleted"), current, written)
    assert values == {"m365_account_enabled": False}


# --------------------------------------------------------------------------- rounds


def test_delta_key_and_lifetime():
    assert delta_key(ContactSettings()) != delta_key(ContactSettings(include_guests=True))
    assert delta_key(ContactSettings()) == delta_key(ContactSettings(), reversed(CONTACT_SELECT))
    assert delta_key(ContactSettings(), directory="A|g") != delta_key(
        ContactSettings(), directory="B|g"
    )
    assert delta_key(ContactSettings(), CONTACT_SELECT[:-1]) != delta_key(ContactSettings())
    now = datetime(2026, 3, 10, tzinfo=timezone.utc)
    assert delta_link_expired(None, now)
    assert not delta_link_expired(now - timedelta(days=6, hours=23), now)
    assert delta_link_expired(now - timedelta(days=7, seconds=1), now)
    assert absent_after_baseline(["a", "b", "c"], {"a", "c"}) == {"b"}


# --------------------------------------------------------------------------- properties

any_text = st.one_of(st.none(), st.text(max_size=300), st.sampled_from(["\x00", "\ud800x"]))


@given(any_text, st.integers(2, 300))
def test_clean_text_properties(raw, limit):
    text = clean_text(raw, limit)
    if text is None:
        return
    assert 0 < len(text) <= limit
    assert text == text.strip() and "  " not in text
    assert "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert not any(c in "\n\r\t" for c in text)
    assert clean_text(text, limit) == text


@given(any_text)
def test_clean_phone_properties(raw):
    phone = clean_phone(raw)
    if phone is not None:
        assert len(phone) <= 64
        assert sum(c.isdecimal() for c in phone) >= 3
        assert clean_phone(phone) == phone


@given(st.one_of(any_text, st.emails()))
def test_clean_email_properties(raw):
    email = clean_email(raw)
    if email is not None:
        assert email.count("@") == 1 and len(email) <= 254
        assert not any(c.isspace() for c in email)
        assert clean_email(email) == email
        assert email_key(email) == email.lower()


user_payloads = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8)},
    optional={
        "displayName": any_text,
        "givenName": any_text,
        "surname": any_text,
        "mail": st.one_of(any_text, st.emails()),
        "userPrincipalName": st.one_of(any_text, st.emails()),
        "jobTitle": any_text,
        "department": any_text,
        "officeLocation": any_text,
        "businessPhones": st.lists(st.text(max_size=80), max_size=3),
        "mobilePhone": any_text,
        "accountEnabled": st.one_of(st.none(), st.booleans()),
        "userType": st.one_of(st.none(), st.sampled_from(["Member", "Guest", "guest", ""])),
    },
)


@given(user_payloads, st.booleans())
def test_every_user_gets_a_plan_and_upserts_are_complete(payload, guests):
    plan = plan_user(GraphUser.from_graph(payload), ContactSettings(include_guests=guests))
    assert plan.action in {"upsert", "retire", "skip"}
    assert plan.label and plan.user_id == payload["id"]
    if plan.action == "upsert":
        assert plan.owned["name"] and plan.owned["email"]
        assert plan.email_key == plan.owned["email"].lower()
        assert plan.owned["active"] is True
        for value in (*plan.owned.values(), *plan.directory.values()):
            if isinstance(value, str):
                assert "\x00" not in value
    if plan.action == "retire":
        assert plan.owned == {"active": False}
    if plan.action == "skip":
        assert plan.reason


@given(user_payloads, user_payloads)
def test_merge_then_read_back_equals_the_merged_state(first, second):
    base = GraphUser.from_graph(first)
    change = GraphUser.from_graph({**second, "id": first["id"]})
    merged = merge_state(graph_state(base), change)
    back = user_from_state(merged)
    assert back is not None and back.id == first["id"]
    for prop in change.present - {"id"}:
        if prop in merged:
            assert merged[prop] == graph_state(change)[prop]


field_values = st.one_of(st.just(False), st.sampled_from(["a", "b", "c"]))


remote_values = st.one_of(st.none(), st.sampled_from(["a", "b"]))
written_values = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))


@given(
    st.fixed_dictionaries(dict.fromkeys(("phone", "function"), field_values)),
    st.fixed_dictionaries(dict.fromkeys(("phone", "function"), remote_values)),
    st.one_of(st.none(), st.fixed_dictionaries({"phone": written_values})),
)
def test_ownership_merge_properties(current, remote, written):
    plan = ContactPlan("u", "upsert", "U", owned=remote)
    values, after = partner_changes(plan, current, written)
    # Idempotent: once applied, the same remote state writes nothing.
    assert partner_changes(plan, {**current, **values}, after)[0] == {}
    for name, want in remote.items():
        last = (written or {}).get(name)
        if name in values and values[name] is False:
            assert last is not None and current[name] == last, "cleared only what the sync set"
        if want is not None and last != want:
            assert {**current, **values}[name] == want, "a Graph change always lands"
        if want is None and not last:
            assert name not in values, "values typed in Odoo are never cleared"


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("xyz"), st.booleans())))
@settings(max_examples=60)
def test_duplicate_choice_ignores_graph_order(entries):
    plans = [_upsert(uid, f"{mail}@contoso.com", guest) for uid, mail, guest in entries]
    unique = list({p.user_id: p for p in plans}.values())
    losers = resolve_duplicates(unique, linked={"c"})
    shuffled = unique[:]
    random.Random(len(entries)).shuffle(shuffled)
    assert resolve_duplicates(shuffled, linked={"c"}) == losers
    winners = [p for p in unique if p.user_id not in losers]
    keys = [p.email_key for p in winners]
    assert len(keys) == len(set(keys)), "one contact per address"
    assert {p.email_key for p in unique} == set(keys), "every address keeps one contact"


@given(
    st.lists(
        st.builds(
            Candidate,
            partner_id=st.integers(1, 50),
            internal_user=st.booleans(),
            user=st.booleans(),
            active=st.booleans(),
            is_company=st.booleans(),
        ),
        unique_by=lambda c: c.partner_id,
    )
)
def test_pick_partner_is_order_independent_and_never_a_company(candidates):
    chosen = pick_partner(candidates)
    assert pick_partner(list(reversed(candidates))) == chosen
    if chosen is not None:
        picked = next(c for c in candidates if c.partner_id == chosen)
        assert not picked.is_company and (picked.active or picked.user)
