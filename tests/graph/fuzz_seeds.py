# ruff: noqa: E501  (documented payloads keep their long ids and links verbatim)
"""Microsoft's documented example payloads, the seeds of the fuzz suites.

Why this file exists: the fuzz tests (``test_fuzz*.py``) mutate real shapes rather
than inventing them. Each seed is copied (shortened where the page shortens it
too) from Microsoft Graph's documentation, repository
microsoftgraph/microsoft-graph-docs-contrib; the path of the page is given.
"""

from __future__ import annotations

# api-reference/v1.0/api/event-get.md, "Response 1" (body shortened).
EVENT = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('48d31887-5fad-4d73-a9f5-3c356e68a038')/events(subject,body,bodyPreview,organizer,attendees,start,end,location,hideAttendees)/$entity",
    "@odata.etag": 'W/"IiLKjG2I7E+Xv0+ys6MD0wAEd5/kNQ=="',
    "id": "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAAAAAAiQ8W967B7TKBjgx9rVEURBwAiIsqMbYjsT5e-T7KzowPTAAAAAAENAAAiIsqMbYjsT5e-T7KzowPTAAAa_WKzAAA=",
    "subject": "New Product Regulations Touchpoint",
    "bodyPreview": "New Product Regulations Strategy Online Touchpoint Meeting",
    "hideAttendees": False,
    "body": {
        "contentType": "html",
        "content": "<html><head></head><body>New Product Regulations Strategy Online "
        "Touchpoint Meeting</body></html>",
    },
    "start": {"dateTime": "2014-11-03T17:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2014-11-03T17:30:00.0000000", "timeZone": "UTC"},
    "location": {
        "displayName": "Conf Room Rainier",
        "locationType": "default",
        "uniqueId": "Conf Room Rainier",
        "uniqueIdType": "private",
    },
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {
                "name": "Engineering",
                "address": "engineering@M365x214355.onmicrosoft.com",
            },
        }
    ],
    "organizer": {
        "emailAddress": {
            "name": "Engineering",
            "address": "engineering@M365x214355.onmicrosoft.com",
        }
    },
}

# api-reference/v1.0/resources/event.md, JSON representation (a subset of the
# properties, with example values in place of the page's type names).
EVENT_FULL = {
    "id": "AAMkAGI1AAAt9AHjAAA=",
    "changeKey": "EZ9r3czxY0m2jz8c45czkwAAFXcvIw==",
    "iCalUId": "040000008200E00074C5B7101A82E00800000000",
    "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7",
    "subject": "Let's go for lunch",
    "isAllDay": False,
    "isCancelled": False,
    "showAs": "busy",
    "sensitivity": "normal",
    "type": "singleInstance",
    "seriesMasterId": None,
    "categories": ["Red category"],
    "lastModifiedDateTime": "2017-04-15T12:00:00.0000000Z",
    "start": {"dateTime": "2017-04-15T12:00:00", "timeZone": "Pacific Standard Time"},
    "end": {"dateTime": "2017-04-15T14:00:00", "timeZone": "Pacific Standard Time"},
    "originalStartTimeZone": "Pacific Standard Time",
    "originalEndTimeZone": "Pacific Standard Time",
    "location": {"displayName": "Harry's Bar"},
    "body": {"contentType": "html", "content": "Does noon work for you?"},
}

# api-reference/v1.0/api/event-delta.md, example response (one page).
EVENT_DELTA_PAGE = {
    "@odata.nextLink": "https://graph.microsoft.com/v1.0/me/calendarView/delta?$skiptoken={_skipToken_}",
    "value": [
        {
            "originalStartTimeZone": "originalStartTimeZone-value",
            "originalEndTimeZone": "originalEndTimeZone-value",
            "responseStatus": {"response": "response-value", "time": "datetime-value"},
            "transactionId": None,
            "iCalUId": "iCalUId-value",
            "reminderMinutesBeforeStart": 99,
            "isDraft": False,
            "isReminderOn": True,
        }
    ],
}

# concepts/delta-query-events.md, the last page of a round: a removed event and the
# delta link.
EVENT_DELTA_LAST_PAGE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
    "@odata.deltaLink": "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0usmcMDNGg0J1E",
    "value": [
        {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": 'W/"EZ9r3czxY0m2jz8c45czkwAAFXcvIw=="',
            "id": "AAMkADNVxRAAA=",
            "@removed": {"reason": "deleted"},
        },
        EVENT_FULL,
    ],
}

# api-reference/v1.0/api/user-delta.md, example 1 and example 3 responses.
USER_DELTA_PAGE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
    "@odata.nextLink": "https://graph.microsoft.com/v1.0/users/delta?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjsXoYQp_dpA3cNJWc",
    "value": [
        {
            "businessPhones": ["businessPhones-value"],
            "displayName": "displayName-value",
            "givenName": "givenName-value",
            "jobTitle": "jobTitle-value",
            "mail": "mail-value",
            "mobilePhone": "mobilePhone-value",
            "officeLocation": "officeLocation-value",
            "preferredLanguage": "preferredLanguage-value",
            "surname": "surname-value",
            "userPrincipalName": "userPrincipalName-value",
            "id": "id-value",
        },
        {"displayName": "displayName-value", "jobTitle": None, "id": "id-value-2"},
    ],
}

# concepts/json-batching.md, "Example JSON batch response" (shortened).
BATCH_RESPONSE = {
    "responses": [
        {
            "id": "1",
            "status": 200,
            "headers": {
                "Cache-Control": "no-cache",
                "OData-Version": "4.0",
                "Content-Type": "application/json;odata.metadata=minimal",
            },
            "body": {
                "@odata.context": "https://graph.microsoft.com/beta/$metadata#directoryObjects",
                "value": [
                    {
                        "@odata.type": "#microsoft.graph.directoryRole",
                        "id": "21004afc-7bb2-4fe6-a1e1-074ebd3e52c1",
                        "displayName": "User Administrator",
                    }
                ],
            },
        },
        {
            "id": "2",
            "status": 403,
            "headers": {"Cache-Control": "no-cache", "Content-Type": "application/json"},
            "body": {
                "error": {
                    "code": "",
                    "message": "You do not have the required permissions to access this item.",
                    "innerError": {
                        "date": "2025-02-13T10:17:05",
                        "request-id": "93b6f17e-c05d-4f45-ad2a-6665c708d8a0",
                        "client-request-id": "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54",
                    },
                }
            },
        },
        {
            "id": "3",
            "status": 403,
            "headers": {"Cache-Control": "no-cache", "Content-Type": "application/json"},
            "body": {
                "error": {
                    "code": "Authorization_RequestDenied",
                    "message": "Insufficient privileges to complete the operation.",
                    "innerError": {
                        "date": "2025-02-13T10:17:06",
                        "request-id": "93b6f17e-c05d-4f45-ad2a-6665c708d8a0",
                        "client-request-id": "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54",
                    },
                }
            },
        },
    ]
}

# concepts/errors.md, "Error resource type" example.
ERROR = {
    "error": {
        "code": "badRequest",
        "message": "Uploaded fragment overlaps with existing data.",
        "innerError": {
            "code": "invalidRange",
            "request-id": "request-id",
            "date": "date-time",
        },
    }
}

# concepts/auth-v2-service.md (identity platform, client credentials) token answer,
# and an error answer of the identity platform (AADSTS7000215, invalid secret).
TOKEN_RESPONSE = {
    "token_type": "Bearer",
    "expires_in": 3599,
    "ext_expires_in": 3599,
    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP",
}
TOKEN_ERROR = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret "
    "being sent in the request is the client secret value, not the client secret ID.",
    "error_codes": [7000215],
    "timestamp": "2019-06-26 21:20:51Z",
    "trace_id": "3c5b9f61-cf3a-4dab-a7c3-fb4ae6710500",
    "correlation_id": "a1f3b4d6-2a17-4d3c-8c6c-16a4e1f1c5d0",
}
