"""The admin client: the calls of every area in one class."""
from __future__ import annotations

from kafkaio.admin.acls import AclsAdmin
from kafkaio.admin.configs import ConfigsAdmin
from kafkaio.admin.groups import GroupsAdmin
from kafkaio.admin.quotas import QuotasAdmin
from kafkaio.admin.records import RecordsAdmin
from kafkaio.admin.share_groups import ShareGroupsAdmin
from kafkaio.admin.topics import TopicsAdmin

__all__ = ["Admin"]


class Admin(TopicsAdmin, ConfigsAdmin, GroupsAdmin, ShareGroupsAdmin, RecordsAdmin, QuotasAdmin, AclsAdmin):
    """Asynchronous admin client; see :mod:`kafkaio.admin` for routing, retries and errors.

    ``Admin("host:9092", request_timeout_ms=...)``, or ``Admin(config=AdminConfig(...))``, or
    ``Admin.from_config({"bootstrap.servers": ...})``; use it as ``async with Admin(...) as admin``."""

