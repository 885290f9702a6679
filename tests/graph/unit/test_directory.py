"""Matching Odoo users to mailboxes through a directory read (no Graph)."""

from __future__ import annotations

from m365_graph.resources.directory import Directory, match_mailboxes


def test_match_mailboxes_prefers_the_first_matching_address():
    directory = Directory({"a@x.com": "id-a", "b@x.com": "id-b"})
    matched = match_mailboxes(
        {1: ["A@x.com", "b@x.com"], 2: [None, "nope@x.com", "B@X.COM"], 3: ["nope@x.com"], 4: []},
        directory,
    )
    assert matched == {1: "id-a", 2: "id-b", 3: None, 4: None}


def test_match_mailboxes_without_directory_uses_the_address_as_upn():
    matched = match_mailboxes({1: [" Adele@Contoso.com "], 2: ["not-an-address"], 3: []}, None)
    assert matched == {1: "adele@contoso.com", 2: None, 3: None}
