"""Test plugin: contributions the registry refuses, chosen by ``FDT_MISFIT`` at start.

Well-behaved (``FDT_MISFIT`` unset) it has a setting, a permission and an action on
repair's work order named by table in its own module (no part): that action is
inactive ("needs repair") while repair is off.
"""

import os

from kernel import Action, Document, Part, Permission, Role, Setting, hookimpl


def _mode() -> str:
    return os.environ.get("FDT_MISFIT", "")


def _nothing(ctx, record, **params):
    return record


@hookimpl
def fixdesk_settings():
    if _mode() == "raises":
        raise RuntimeError("the settings file is on fire")
    settings = [Setting("fdt_misfit.level", int, 1, "A level")]
    if _mode() == "duplicate_setting":
        settings.append(Setting("fdt_misfit.level", int, 2, "The same key again"))
    if _mode() == "unprefixed":
        settings.append(Setting("level", int, 1, "No plugin name"))
    return settings


@hookimpl
def fixdesk_permissions():
    found = [Permission("fdt_misfit_thing", "read", ("front_desk",))]
    if _mode() == "duplicate_permission":
        found.append(Permission("fdt_note", "read", ("engineer",)))
    return found


@hookimpl
def fixdesk_roles():
    if _mode() == "duplicate_role":
        return [Role("engineer", "Engineer again")]
    return []


@hookimpl
def fixdesk_actions():
    found = [Action("repair_work_order", "fdt_misfit_poke", "Poke", _nothing,
                    "fdt_misfit_thing.read")]
    if _mode() == "missing_entity":
        found.append(Action("fdt_misfit_nothing", "poke", "Poke", _nothing,
                            "fdt_misfit_thing.read"))
    if _mode() == "typo_of_partner":
        found.append(Action("repair_wrok_order", "fdt_misfit_typo", "Typo", _nothing,
                            "fdt_misfit_thing.read"))
    if _mode() == "unprefixed_action":
        found.append(Action("fdt_notes_note", "poke", "Poke", _nothing, "fdt_misfit_thing.read"))
    return found


@hookimpl
def fixdesk_documents():
    if _mode() == "bad_document":
        return [Document("fdt_misfit.sheet", "Sheet", "customer", "x.html", dict, paper="A3")]
    if _mode() == "wrong_answer":
        return ["not a document"]
    return []


class _TagsGlue:
    """Glue for a plugin the manifest does not name as a partner."""


@hookimpl
def fixdesk_parts():
    if _mode() == "unlisted_partner":
        return [Part("tags", _TagsGlue(), needs=("fdt_tags",))]
    return []
