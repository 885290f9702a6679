"""Places: ``/places/microsoft.graph.room``, ``/places/microsoft.graph.roomlist`` and
``/places/{room list}/microsoft.graph.roomlist/rooms``.

Shapes and rules, with their sources:

* a room is Graph's ``room`` resource (Graph docs, "room resource type"): ``id``,
  ``emailAddress``, ``displayName``, ``address``, ``geoCoordinates``, ``phone``,
  ``nickname``, ``label``, ``capacity``, ``building``, ``floorLabel``,
  ``floorNumber``, ``isWheelChairAccessible``, ``bookingType`` (``standard`` or
  ``reserved``), ``tags``, ``audioDeviceName``, ``videoDeviceName``,
  ``displayDeviceName``; a room list is ``roomList`` (``id``, ``displayName``,
  ``emailAddress``, ``address``, ``geoCoordinates``, ``phone``) — Graph docs,
  "roomList resource type";
* application permission ``Place.Read.All`` (or ``Place.ReadWrite.All``), else
  403 ``ErrorAccessDenied`` (Graph docs, "List places", permissions);
* pages of 100 by default (``$top`` up to 999) linked by ``@odata.nextLink``
  (Graph docs, "List places": "returns up to 100 objects"; ``$top`` supported);
* only rooms that have a room mailbox are listed ("In Exchange Online, each room
  is associated with a room mailbox", room resource type);
* a new room is not listed at once: Places data is copied from the directory with
  a delay of up to 48 hours (microsoftgraph/microsoft-graph-docs#15460, #20558,
  #7192; probits-as/MeetEasier#38). A room added with ``placesHidden=True`` is
  hidden until :meth:`TenantState.update_room` clears it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..identity import token_permissions
from ..tenant.service_errors import GraphError
from .odata_query import decode_token, encode_token, link, page_size
from .wire_types import GraphRequest, GraphResponse, ok

if TYPE_CHECKING:
    from ..tenant.handler_context import HandlerContext


def _room_json(record) -> dict:
    props, room = record.props, record.room
    return {
        "id": props["id"],
        "emailAddress": props.get("mail"),
        "displayName": props.get("displayName"),
        "address": room.get("address"),
        "geoCoordinates": None,
        "phone": room.get("phone"),
        "nickname": props.get("displayName"),
        "label": room.get("label"),
        "capacity": room.get("capacity"),
        "building": room.get("building"),
        "floorLabel": room.get("floorLabel"),
        "floorNumber": room.get("floorNumber"),
        "isWheelChairAccessible": bool(room.get("isWheelChairAccessible", False)),
        "bookingType": room.get("bookingType", "standard"),
        "tags": list(room.get("tags", [])),
        "audioDeviceName": room.get("audioDeviceName"),
        "videoDeviceName": room.get("videoDeviceName"),
        "displayDeviceName": room.get("displayDeviceName"),
    }


def _listed_rooms(ctx: HandlerContext) -> list:
    return [
        r
        for r in ctx.state.user_records()
        if r.room is not None and r.has_mailbox and not r.room.get("placesHidden")
    ]


def _paged(ctx, req, items, path: str, kind: str) -> GraphResponse:
    size, _ = page_size(req.query, req.prefer, 100, 999)
    offset = 0
    if "$skiptoken" in req.query:
        token = decode_token(req.query["$skiptoken"]) or {}
        offset = int(token.get("o", 0))
    body = {
        "@odata.context": f"{ctx.graph_url}/$metadata#places/microsoft.graph.{kind}",
        "value": items[offset : offset + size],
    }
    if offset + size < len(items):
        body["@odata.nextLink"] = link(
            ctx.graph_url,
            path,
            {"$top": req.query.get("$top"), "$skiptoken": encode_token({"o": offset + size})},
        )
    return ok(body)


def list_rooms(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    token_permissions.require_places(req.principal)
    with ctx.state.lock:
        items = [_room_json(r) for r in _listed_rooms(ctx)]
    return _paged(ctx, req, items, "/places/microsoft.graph.room", "room")


def _room_lists(ctx) -> dict[str, dict]:
    lists: dict[str, dict] = {}
    for record in _listed_rooms(ctx):
        address = record.room.get("roomList")
        if not address:
            continue
        entry = lists.setdefault(
            address.lower(),
            {
                "id": address.lower(),
                "displayName": record.room.get("roomListName") or address,
                "emailAddress": address,
                "address": None,
                "geoCoordinates": None,
                "phone": None,
                "rooms": [],
            },
        )
        entry["rooms"].append(record)
    return lists


def list_room_lists(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    token_permissions.require_places(req.principal)
    with ctx.state.lock:
        items = [
            {k: v for k, v in entry.items() if k != "rooms"} for entry in _room_lists(ctx).values()
        ]
    return _paged(ctx, req, items, "/places/microsoft.graph.roomlist", "roomList")


def list_rooms_of_list(ctx: HandlerContext, req: GraphRequest) -> GraphResponse:
    token_permissions.require_places(req.principal)
    wanted = req.params["room_list"].lower()
    with ctx.state.lock:
        entry = _room_lists(ctx).get(wanted)
        if entry is None:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        items = [_room_json(r) for r in entry["rooms"]]
    path = f"/places/{req.params['room_list']}/microsoft.graph.roomlist/rooms"
    return _paged(ctx, req, items, path, "room")
