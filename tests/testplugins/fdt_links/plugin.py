"""Test plugin: an entity with links to any record (kernel.links), no foreign keys, no
dependencies."""

from kernel import Permission, hookimpl

from .models import Memo


@hookimpl
def fixdesk_entities():
    return [Memo]


@hookimpl
def fixdesk_permissions():
    return [Permission("fdt_links_memo", action, ("front_desk",))
            for action in ("read", "create", "update", "delete")]
