"""m365_graph.resources.subscriptions against the sandbox (which runs the handshake)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from m365_graph.core.errors import GraphError, NotFound
from m365_graph.resources.subscriptions import (
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
    reauthorize_subscription,
    renew_subscription,
)
from m365_graph.sync.notifications import events_resource, new_client_state

ADELE = "adele.vance@contoso.onmicrosoft.com"


@pytest.fixture
def hook():
    @Request.application
    def app(request):
        return Response(request.args.get("validationToken", ""), 200, content_type="text/plain")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_lifecycle_of_a_subscription(sb, app_client, hook):
    user = sb.state.get_user(ADELE)
    expires = sb.state.now() + timedelta(days=3)
    sub = create_subscription(
        app_client,
        events_resource(user["id"]),
        hook,
        new_client_state(),
        expires,
        lifecycle_url=hook,
    )
    assert sub.resource == f"users/{user['id']}/events"
    assert abs((sub.expires - expires).total_seconds()) < 1
    post = next(
        r for r in sb.log.records() if r.method == "POST" and r.path.endswith("/subscriptions")
    )
    assert post.headers.get("Prefer") == 'IdType="ImmutableId"'
    renewed = renew_subscription(app_client, sub.id, expires + timedelta(days=2))
    assert renewed.expires > sub.expires
    reauthorize_subscription(app_client, sub.id)
    assert get_subscription(app_client, sub.id).id == sub.id
    assert [s.id for s in list_subscriptions(app_client)] == [sub.id]
    assert delete_subscription(app_client, sub.id) is True
    assert delete_subscription(app_client, sub.id) is False
    assert get_subscription(app_client, sub.id) is None
    with pytest.raises(NotFound):
        renew_subscription(app_client, sub.id, expires)
    with pytest.raises(NotFound):
        reauthorize_subscription(app_client, sub.id)


def test_failed_handshake_is_a_graph_error(sb, app_client):
    user = sb.state.get_user(ADELE)
    with pytest.raises(GraphError, match="validation request failed"):
        create_subscription(
            app_client,
            events_resource(user["id"]),
            "http://127.0.0.1:9/nothing",
            new_client_state(),
            sb.state.now() + timedelta(hours=1),
        )
