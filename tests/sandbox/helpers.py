"""Small HTTP helpers for the sandbox tests (plain requests, no m365_graph)."""

from __future__ import annotations

import requests


class VerifiedSession(requests.Session):
    """A Session that always verifies with the given CA.

    REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the environment would otherwise
    override ``Session.verify``; merge_environment_settings is where requests
    applies them, so force ours there.
    """

    def __init__(self, ca_path: str):
        super().__init__()
        self.ca_path = ca_path
        self.verify = ca_path

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.ca_path
        settings["proxies"] = {}
        return settings


def app_token(sb, roles=None) -> str:
    """A client-credentials token, fetched over HTTP (roles narrowed first if given)."""
    if roles is not None:
        sb.state.set_app_roles(roles)
    response = requests.post(
        f"{sb.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=sb.ca_path,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class Graph:
    """A minimal Graph caller bound to a sandbox and a token."""

    def __init__(self, sb, token: str | None = None):
        self.sb = sb
        self.token = token if token is not None else app_token(sb)
        self.session = VerifiedSession(sb.ca_path)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("https://") else f"{self.sb.graph_url}{path}"
        return self.session.request(method, url, headers=headers, timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def follow(self, path, **kwargs) -> tuple[list[dict], list[dict], str | None]:
        """All pages: (items, raw pages, deltaLink or None)."""
        items, pages = [], []
        url = path
        params = kwargs.pop("params", None)
        while url:
            response = self.get(url, params=params, **kwargs)
            assert response.status_code == 200, response.text
            page = response.json()
            pages.append(page)
            items.extend(page["value"])
            url = page.get("@odata.nextLink")
            params = None
            if "@odata.deltaLink" in page:
                return items, pages, page["@odata.deltaLink"]
        return items, pages, None
