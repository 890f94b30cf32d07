"""Message schemas, one module per API family. ``ALL_APIS`` collects them."""
from __future__ import annotations

from kafkaio.protocol.messages import acls, admin, client_quotas, fetch, group, metadata, offsets, produce, sasl, share, telemetry, txn
from kafkaio.protocol.schema import Api

ALL_APIS: tuple[Api, ...] = (
    *metadata.APIS, *produce.APIS, *fetch.APIS, *group.APIS, *offsets.APIS, *txn.APIS,
    *admin.APIS, *acls.APIS, *client_quotas.APIS, *sasl.APIS, *share.APIS,
    *telemetry.APIS,
)
