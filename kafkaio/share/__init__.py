"""Share groups (KIP-932): the asyncio share consumer.

One role a module: ``records`` (what a poll hands out, the acknowledge types), ``acks``
(acknowledgements pending per partition and their wire form), ``membership`` (the member state
machine, as Java's ``ShareMembershipManager``), ``session`` (share sessions for ShareFetch, epochs
and incremental partition lists), ``heartbeat`` (the ShareGroupHeartbeat loop), ``node`` (the
requests to one share-partition leader), ``consumer`` (``ShareConsumer``), ``processing``
(``processing()`` and the bounded worker helper).
"""
