"""Directory endpoints: /users, /users/{id|upn}, /me, /users/delta, /places."""

from urllib.parse import parse_qs, urlsplit

from .helpers import Graph


def test_list_users_default_properties_and_context(sandbox):
    graph = Graph(sandbox)
    response = graph.get("/users")
    assert response.status_code == 200
    assert response.headers["request-id"]
    body = response.json()
    assert body["@odata.context"] == f"{sandbox.graph_url}/$metadata#users"
    adele = next(u for u in body["value"] if u["displayName"] == "Adele Vance")
    assert set(adele) == {
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
    }
    assert adele["businessPhones"] == ["+1 425 555 0109"]


def test_select_top_and_paging_over_three_pages(sandbox):
    for index in range(12):
        sandbox.state.add_user(f"Paging User {index:02d}")
    graph = Graph(sandbox)
    total = len(sandbox.state.users)
    items, pages, _ = graph.follow(
        "/users", params={"$select": "id,displayName,accountEnabled", "$top": "5"}
    )
    assert len(pages) >= 3 and len(items) == total
    assert len({u["id"] for u in items}) == total
    assert all(set(u) == {"id", "displayName", "accountEnabled"} for u in items)
    next_link = pages[0]["@odata.nextLink"]
    query = parse_qs(urlsplit(next_link).query)
    assert "$skiptoken" in query and query["$select"] == ["id,displayName,accountEnabled"]


def test_filters(sandbox):
    graph = Graph(sandbox)
    enabled = graph.get(
        "/users", params={"$filter": "accountEnabled eq true", "$select": "displayName"}
    ).json()["value"]
    names = {u["displayName"] for u in enabled}
    assert "Pradeep Gupta" not in names and "Adele Vance" in names
    by_mail = graph.get(
        "/users", params={"$filter": "mail eq 'MEGAN.BOWEN@contoso.onmicrosoft.com'"}
    ).json()["value"]
    assert [u["displayName"] for u in by_mail] == ["Megan Bowen"]
    by_upn = graph.get(
        "/users", params={"$filter": "userPrincipalName eq 'alex.wilber@contoso.onmicrosoft.com'"}
    ).json()["value"]
    assert [u["displayName"] for u in by_upn] == ["Alex Wilber"]
    combined = graph.get(
        "/users",
        params={
            "$filter": "accountEnabled eq true and "
            "(startswith(displayName,'A') or userType eq 'Guest')"
        },
    ).json()["value"]
    assert {u["displayName"] for u in combined} == {
        "Adele Vance",
        "Alex Wilber",
        "Jordan Miller (Fabrikam)",
    }
    bad = graph.get("/users", params={"$filter": "contains(displayName,'x')"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_unknown_select_property_is_400(sandbox):
    response = Graph(sandbox).get("/users", params={"$select": "displayName,shoeSize"})
    assert response.status_code == 400
    assert "shoeSize" in response.json()["error"]["message"]


def test_get_user_by_id_and_upn_and_404(sandbox):
    graph = Graph(sandbox)
    megan = sandbox.state.get_user("megan.bowen@contoso.onmicrosoft.com")
    by_id = graph.get(f"/users/{megan['id']}").json()
    by_upn = graph.get(
        "/users/Megan.Bowen@contoso.onmicrosoft.com", params={"$select": "id,department"}
    ).json()
    assert by_id["id"] == by_upn["id"] == megan["id"]
    assert by_upn["department"] == "Marketing" and "displayName" not in by_upn
    missing = graph.get("/users/nobody@contoso.onmicrosoft.com")
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "Request_ResourceNotFound"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == missing.headers["request-id"]


def test_guest_upn_with_hash_in_path(sandbox):
    response = Graph(sandbox).get(
        "/users/jordan.miller_fabrikam.com%23EXT%23@contoso.onmicrosoft.com"
    )
    assert response.status_code == 200 and response.json()["mail"] == "jordan.miller@fabrikam.com"


def test_client_request_id_is_echoed(sandbox):
    response = Graph(sandbox).get("/users", headers={"client-request-id": "abc-123"})
    assert response.headers["client-request-id"] == "abc-123"


def test_me_needs_a_delegated_token(sandbox):
    response = Graph(sandbox).get("/me")
    assert response.status_code == 400 and "delegated" in response.json()["error"]["message"]
    token = sandbox.issue_user_token("adele.vance@contoso.onmicrosoft.com", ["User.Read"])
    me = Graph(sandbox, token).get("/me", params={"$select": "displayName"})
    assert me.status_code == 200 and me.json()["displayName"] == "Adele Vance"


def test_users_delta_rounds(sandbox):
    state = sandbox.state
    for index in range(7):
        state.add_user(f"Delta User {index}")
    graph = Graph(sandbox)
    items, pages, delta_link = graph.follow(
        "/users/delta",
        params={"$select": "displayName,mail,jobTitle"},
        headers={"Prefer": "odata.maxpagesize=5"},
    )
    assert len(pages) >= 3 and delta_link and "$deltatoken" in delta_link
    assert len(items) == len(state.users)
    assert all(set(u) <= {"id", "displayName", "mail", "jobTitle"} for u in items)

    # Nothing changed: an empty round.
    items, _, delta_link = graph.follow(delta_link)
    assert items == []

    alex = state.get_user("alex.wilber@contoso.onmicrosoft.com")
    megan = state.get_user("megan.bowen@contoso.onmicrosoft.com")
    lynne = state.get_user("lynne.robbins@contoso.onmicrosoft.com")
    state.update_user(alex["id"], jobTitle="Marketing Lead")
    state.update_user(lynne["id"], department="Logistics")  # not selected: not reported
    state.remove_user(megan["id"], reason="changed")
    new = state.add_user("Newcomer Person", job_title="Intern")
    items, _, delta_link = graph.follow(delta_link)
    by_id = {u["id"]: u for u in items}
    assert by_id[alex["id"]] == {"id": alex["id"], "jobTitle": "Marketing Lead"}
    assert by_id[megan["id"]] == {"id": megan["id"], "@removed": {"reason": "changed"}}
    assert by_id[new["id"]]["displayName"] == "Newcomer Person"
    assert lynne["id"] not in by_id

    state.remove_user(new["id"])
    items, _, _ = graph.follow(delta_link)
    assert items == [{"id": new["id"], "@removed": {"reason": "deleted"}}]


def test_users_delta_expired_token_is_410(sandbox):
    graph = Graph(sandbox)
    _, _, delta_link = graph.follow("/users/delta", params={"$select": "displayName"})
    sandbox.state.expire_delta_tokens()
    response = graph.get(delta_link)
    assert response.status_code == 410 and response.json()["error"]["code"] == "syncStateNotFound"


def test_users_delta_latest_token(sandbox):
    graph = Graph(sandbox)
    body = graph.get(
        "/users/delta", params={"$deltatoken": "latest", "$select": "displayName"}
    ).json()
    assert body["value"] == [] and "@odata.deltaLink" in body
    sandbox.state.add_user("After Latest")
    items, _, _ = graph.follow(body["@odata.deltaLink"])
    assert [u["displayName"] for u in items] == ["After Latest"]


def test_rooms_listed_as_places(sandbox):
    graph = Graph(sandbox)
    assert graph.get("/places/microsoft.graph.room").status_code == 403
    sandbox.state.set_app_roles(["Place.Read.All"])
    graph = Graph(sandbox)
    rooms = graph.get("/places/microsoft.graph.room").json()["value"]
    assert [r["emailAddress"] for r in rooms] == ["rainier@contoso.onmicrosoft.com"]
    assert rooms[0]["capacity"] == 12
    assert sandbox.state.get_user("rainier@contoso.onmicrosoft.com")["isRoom"] is True


def test_users_delta_changes_between_pages_never_skip_unchanged_users(sandbox):
    state = sandbox.state
    for index in range(10):
        state.add_user(f"Keyset User {index}")
    graph = Graph(sandbox)
    page = graph.get(
        "/users/delta", params={"$select": "displayName"}, headers={"Prefer": "odata.maxpagesize=5"}
    ).json()
    seen = {u["id"] for u in page["value"]}
    state.remove_user(page["value"][0]["id"])
    state.update_user(page["value"][1]["id"], displayName="Renamed")
    rest, _, delta_link = graph.follow(page["@odata.nextLink"])
    seen |= {u["id"] for u in rest}
    assert {u["id"] for u in state.users} <= seen
    items, _, _ = graph.follow(delta_link)
    assert {u["id"] for u in items} == {page["value"][0]["id"], page["value"][1]["id"]}


def test_room_accounts_are_disabled_like_exchange_resource_mailboxes(sandbox):
    rooms = {u["displayName"]: u for u in sandbox.state.rooms}
    assert rooms["Conference Room Rainier"]["accountEnabled"] is False
    extra = sandbox.state.add_room("Room Baker", "baker@contoso.onmicrosoft.com")
    assert extra["accountEnabled"] is False
    assert sandbox.state.add_user("Nina Neu")["accountEnabled"] is True
