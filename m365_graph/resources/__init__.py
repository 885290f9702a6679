"""m365_graph.resources — the Graph resources, the I/O (rank 3, the top layer).

Directory users and users delta (:mod:`.users`, :mod:`.directory`), calendars
(:mod:`.calendar`: calendarView and its delta), events (:mod:`.events`), series
completion of a delta round (:mod:`.series`), busy time of many mailboxes
(:mod:`.busytime`) and sending the outbox's operations (:mod:`.outbox`). Each
builds URLs and parses answers through ``core.GraphClient``; the decisions they
apply come from ``sync/``. Room calendars (places) and change-notification
subscriptions go here.

May import every lower layer.
"""
