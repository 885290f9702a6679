"""The webhook Microsoft Graph calls: change and lifecycle notifications.

``/m365_sync/webhook`` receives change notifications, ``/m365_sync/webhook/lifecycle``
lifecycle ones (``reauthorizationRequired``, ``subscriptionRemoved``, ``missed``).
Both are public (``auth="none"``: Graph has no Odoo session) and answer fast:

* **Validation handshake.** When a subscription is created Graph POSTs
  ``?validationToken=…`` and expects, within 10 seconds, ``200`` with the token
  as the body in plain text. It is returned byte for byte as ``text/plain`` with
  ``X-Content-Type-Options: nosniff``, so a token with markup is never rendered
  as HTML; nothing is read from or written to the database.
* **Notifications** are answered ``202`` within Graph's 3 seconds whatever the
  load: the body is capped (:data:`MAX_BODY`: 413 above it), parsed without a
  database read (malformed → 400, no traceback), each item checked against the
  worker's cached map of subscription id → clientState digest
  (``m365.subscription._m365_match``: unknown ids and wrong secrets are dropped
  and logged without the secret), and only genuine items cost one ``UPDATE``
  (the subscription is *pending*) and a cron trigger. The work itself —
  re-reading the mailbox by delta — is the job's unit, never the request's.

Sources: https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
(handshake, 202, 3 s, retries) and
https://learn.microsoft.com/graph/change-notifications-lifecycle-events.
"""

import logging

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from odoo import http
from odoo.http import request

from m365_graph.sync.notifications import MAX_BODY_BYTES, MalformedNotification, parse_notifications

_logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/m365_sync/webhook"
LIFECYCLE_PATH = "/m365_sync/webhook/lifecycle"
MAX_BODY = MAX_BODY_BYTES
#: Graph's validation tokens are short; a longer one is no handshake of Graph's.
MAX_TOKEN = 2048


def _plain(text, status):
    return Response(
        text,
        status=status,
        headers=[
            ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-store"),
        ],
    )


class M365Webhook(http.Controller):
    @http.route(
        [WEBHOOK_PATH],
        type="http",
        auth="none",
        methods=["POST", "GET"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def m365_webhook(self, **_kwargs):
        return self._m365_handle(lifecycle=False)

    @http.route(
        [LIFECYCLE_PATH],
        type="http",
        auth="none",
        methods=["POST", "GET"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def m365_webhook_lifecycle(self, **_kwargs):
        return self._m365_handle(lifecycle=True)

    def _m365_handle(self, lifecycle):
        httprequest = request.httprequest
        token = httprequest.args.get("validationToken")
        if token is not None:
            if len(token) > MAX_TOKEN:
                return _plain("Invalid validation token", 400)
            return _plain(token, 200)
        if httprequest.method != "POST":
            return _plain("Method not allowed", 405)
        length = httprequest.content_length
        if length is not None and length > MAX_BODY:
            return _plain("Request body too large", 413)
        # A body sent without a length (chunked) is cut by werkzeug at the same cap.
        httprequest.max_content_length = MAX_BODY
        try:
            body = httprequest.get_data(cache=False)
        except RequestEntityTooLarge:
            return _plain("Request body too large", 413)
        try:
            items = parse_notifications(body)
        except MalformedNotification as exc:
            _logger.info("Microsoft 365 webhook: malformed notification refused (%s)", exc)
            return _plain("Malformed notification", 400)
        if items:
            Sub = request.env["m365.subscription"].sudo()
            if lifecycle:
                Sub._m365_receive_lifecycle(items)
            else:
                Sub._m365_receive(items)
        return _plain("", 202)
