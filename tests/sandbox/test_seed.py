"""Seeds: default tenant, demo tenant, bulk tenants, JSON files."""

import json
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from m365_sandbox import Sandbox, bulk_seed, demo_seed, load_seed

from .helpers import Graph, app_token

UTC = timezone.utc


def test_default_tenant(sandbox):
    users = {u["userPrincipalName"]: u for u in sandbox.state.users}
    assert users["pradeep.gupta@contoso.onmicrosoft.com"]["accountEnabled"] is False
    assert users["jordan.miller_fabrikam.com#EXT#@contoso.onmicrosoft.com"]["userType"] == "Guest"
    assert sandbox.state.user_record("isaiah.langer@contoso.onmicrosoft.com").has_mailbox is False
    assert [r["displayName"] for r in sandbox.state.rooms] == ["Conference Room Rainier"]
    assert sandbox.state.app.roles == {"User.Read.All", "Calendars.ReadWrite"}
    assert sandbox.authority == f"{sandbox.url}/{sandbox.tenant_id}"
    assert sandbox.graph_url == f"{sandbox.url}/v1.0"
    assert sandbox.url.startswith("https://127.0.0.1:")


def test_demo_seed_is_realistic():
    today = date(2026, 11, 18)
    with Sandbox(seed=demo_seed(today)) as sb:
        users = sb.state.users
        assert 28 <= len(users) <= 40
        assert len(sb.state.rooms) == 3
        assert any(u["userType"] == "Guest" for u in users)
        assert any(u["accountEnabled"] is False for u in users)
        members = [u for u in users if u["userType"] == "Member" and not u.get("isRoom")]
        assert all(u["businessPhones"] and u["jobTitle"] for u in members)
        graph = Graph(sb)
        window = {"startDateTime": "2026-11-16T00:00:00Z", "endDateTime": "2026-11-21T00:00:00Z"}
        items, _, _ = graph.follow(
            "/users/adele.vance@contoso.onmicrosoft.com/calendarView",
            params=window,
            headers={"Prefer": "odata.maxpagesize=100"},
        )
        categories = {c for e in items for c in e["categories"]}
        assert {"Focus time", "Lunch break"} <= categories
        assert {"occurrence", "singleInstance"} <= {e["type"] for e in items}
        rooms = graph.get("/places/microsoft.graph.room").json()["value"]
        assert len(rooms) == 3


def test_bulk_seed_builds_big_tenants_fast():
    started = time.monotonic()
    with (
        Sandbox(seed=bulk_seed(10_000, 0)) as big,
        Sandbox(seed=bulk_seed(1_000, 50, start=date(2026, 11, 2), days=28)) as busy,
    ):
        elapsed = time.monotonic() - started
        assert elapsed < 10
        assert len(big.state.user_records()) == 10_000
        record = busy.state.user_records()[999]
        assert len(busy.state.mailbox(record.props["id"]).events) == 50
        graph = Graph(busy)
        items, _, _ = graph.follow(
            f"/users/{record.props['id']}/calendarView",
            params={"startDateTime": "2026-11-02T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"},
            headers={"Prefer": "odata.maxpagesize=50"},
        )
        assert len(items) == 50
        page = Graph(big).get("/users", params={"$top": "999"}).json()
        assert len(page["value"]) == 999 and "@odata.nextLink" in page


def test_bulk_seed_only_some_mailboxes():
    with Sandbox(seed=bulk_seed(20, 3, mailboxes=5)) as sb:
        with_mailbox = [r for r in sb.state.user_records() if r.has_mailbox]
        assert len(with_mailbox) == 5


def test_json_seed_file(tmp_path):
    seed = {
        "tenant": {
            "id": "11111111-2222-4333-8444-555555555555",
            "domain": "fabrikam.onmicrosoft.com",
            "domains": ["fabrikam.com"],
            "displayName": "Fabrikam",
        },
        "app": {
            "clientId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            "clientSecret": "s3cret",
            "roles": ["Calendars.Read"],
            "redirectUris": ["https://odoo.example.com/*"],
        },
        "signedInUser": "kim@fabrikam.com",
        "users": [
            {
                "displayName": "Kim Akers",
                "userPrincipalName": "kim@fabrikam.com",
                "id": "0b3d0e7a-2f55-4f0b-9d87-6f8ad2d7d0a1",
                "jobTitle": "CFO",
                "employeeId": "E-17",
                "events": [
                    {
                        "id": "AAMkSeededEvent1",
                        "subject": "Tomorrow",
                        "start": {"dateTime": "today+1T09:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": "today+1T10:00:00", "timeZone": "UTC"},
                        "categories": ["Focus time"],
                    }
                ],
            },
            {
                "displayName": "Board Room",
                "userPrincipalName": "board@fabrikam.com",
                "isRoom": True,
            },
        ],
        "shares": [{"owner": "board@fabrikam.com", "delegate": "kim@fabrikam.com", "write": False}],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    assert load_seed(str(path)) == seed
    with Sandbox(seed=str(path)) as sb:
        assert sb.tenant_id == "11111111-2222-4333-8444-555555555555"
        assert (
            sb.client_id == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" and sb.client_secret == "s3cret"
        )
        assert sb.state.resolve_tenant("fabrikam.com") == "tenant"
        (event,) = sb.state.events("kim@fabrikam.com")
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        assert event["id"] == "AAMkSeededEvent1" and event["start"]["dateTime"].startswith(
            tomorrow.isoformat()
        )
        assert sb.state.get_user("kim@fabrikam.com")["employeeId"] == "E-17"
        assert (
            sb.state.shared_with(
                sb.state.get_user("board@fabrikam.com")["id"],
                "0b3d0e7a-2f55-4f0b-9d87-6f8ad2d7d0a1",
            )
            is False
        )
        graph = Graph(sb, app_token(sb))
        assert graph.get("/users").status_code == 403  # only Calendars.Read granted
        assert (
            graph.get(f"/users/kim@fabrikam.com/events/{event['id']}").json()["subject"]
            == "Tomorrow"
        )


def test_start_stop_and_context_manager():
    sb = Sandbox()
    try:
        sb.state.add_user("Before Start")  # the state is usable before start
        assert sb.start() is sb and sb.start() is sb
        url = sb.url
        response = requests.get(f"{url}/", verify=sb.ca_path, timeout=5)
        assert response.json()["tenant_id"] == sb.tenant_id
    finally:
        sb.stop()
    sb.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/", verify=sb.ca_path, timeout=5)
