"""What the desk shows of a record's timeline (beside its form, and page by page) and of
the notes that mention the user (on his home page).

:func:`panel` is called by the form (:func:`kernel.web.desk.pages.form_page`); opening a
record marks the user's mentions in its notes as seen. A note or an upload that was
refused is shown again with its problem: the routes put what was typed in
``request.state.timeline_input`` before drawing the form again.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from kernel import notes
from kernel.i18n import _
from kernel.timeline import TimelinePage, timeline

#: entries beside the form; older ones are on the timeline's own pages
FORM_EVENTS = 20


def _local(ctx, instant) -> str:
    return instant.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M")


def file_size(size: int) -> str:
    """A file's size for people: ``820 KB``, ``3.4 MB``."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def full_names(ctx, user_ids) -> dict[int, str]:
    """``{user id: full name}`` of the users ``user_ids`` (one query)."""
    from kernel.auth import User

    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {i: name for i, name in ctx.session.execute(
        select(User.id, User.full_name).where(User.id.in_(ids)))}


def actor_name(names: dict, user_id, actor: str) -> str:
    """Who did it, as people read it: the user's full name, "system" in the reader's
    language for what no user did, else the name the log kept (``cli:root``)."""
    if user_id in names:
        return names[user_id]
    return _("system") if actor in ("", "system") else actor


def note_parts(text: str, mentioned) -> list[tuple[str, bool]]:
    """A note cut into ``(text, is a mention)`` parts, so the desk can mark each
    ``@username`` of a user the note mentions."""
    names = sorted({m for m in mentioned or ()}, key=len, reverse=True)
    if not names:
        return [(text, False)]
    pattern = re.compile(r"(?<![\w.@])@(" + "|".join(re.escape(n) for n in names) + ")")
    parts, start = [], 0
    for match in pattern.finditer(text):
        if match.start() > start:
            parts.append((text[start:match.start()], False))
        parts.append((match.group(0), True))
        start = match.end()
    if start < len(text):
        parts.append((text[start:], False))
    return parts


def events(ctx, info, record, page: TimelinePage) -> list[dict]:
    """The entries of a timeline page as the templates draw them."""
    base = f"/desk/{info.name}/{record.id}"
    names = full_names(ctx, [e.user_id for e in page.events])
    shown = []
    for event in page.events:
        item = {"kind": event.kind, "title": event.title, "at": _local(ctx, event.at),
                "iso": event.at.isoformat(), "actor": actor_name(names, event.user_id, event.actor),
                "username": event.actor, "text": event.text, "url": event.url, "parts": None,
                "changes": [{"label": label, "old": old, "new": new}
                            for label, old, new in event.changes],
                "file": None}
        if event.kind == "note" and event.text:
            item["parts"] = note_parts(event.text, event.data.get("mentions"))
        attachment = event.data.get("attachment_id") if event.kind == "attachment" else None
        if attachment is not None:
            url = f"{base}/attachments/{attachment}"
            item["file"] = {"name": event.data.get("filename", ""), "url": url,
                            "download": f"{url}?download=1",
                            "thumbnail": f"{url}/thumbnail" if event.data.get("image") else None,
                            "size": file_size(int(event.data.get("size") or 0)),
                            "kind": event.data.get("kind", "file")}
        shown.append(item)
    return shown


def older_url(info, record, page: TimelinePage) -> str | None:
    if page.older is None:
        return None
    return f"/desk/{info.name}/{record.id}/timeline?before={quote(page.older.isoformat())}"


def panel(request, ctx, info, record) -> dict:
    """The timeline beside a record's form: its latest entries, the note box and the
    upload box (for users who may use them). Marks the user's mentions on the record
    as seen (apart from the page's own transaction, which only reads)."""
    from kernel.attachments import SIGNATURES, max_bytes

    notes.mark_seen_apart(ctx, info.name, record.id)
    page = timeline(ctx, info.name, record, limit=FORM_EVENTS)
    base = f"/desk/{info.name}/{record.id}"
    typed = getattr(request.state, "timeline_input", None) or {}
    types = [t for t in ctx.setting("kernel.attachment_types") if t in SIGNATURES]
    return {
        "events": events(ctx, info, record, page), "older_url": older_url(info, record, page),
        "all_url": f"{base}/timeline",
        "note_url": f"{base}/notes", "upload_url": f"{base}/attachments",
        "mention_lookup": f"{base}/mentionable",
        "can_note": ctx.can("note.create"), "can_attach": ctx.can("attachment.create"),
        "note": typed.get("note", ""), "note_error": typed.get("note_error"),
        "file_error": typed.get("file_error"), "max_length": notes.MAX_NOTE_LENGTH,
        "max_mb": max_bytes(ctx) // (1024 * 1024),
        "accept": ",".join(SIGNATURES[t][0] for t in types),
        "types": ", ".join("WebP" if t == "webp" else t.upper() for t in types),
        "field_changes": ctx.can("audit.read"),
    }


def home_mentions(ctx) -> dict:
    """The notes that mention the user and that he has not seen yet, newest first, each
    with a link to its record (for the home page): ``{"items": [...], "count": n}``."""
    from kernel.references import record_labels

    if ctx is None or ctx.user is None:
        return {"items": [], "count": 0}
    found = notes.mentions_for(ctx)
    if not found:
        return {"items": [], "count": 0}
    by_entity: dict[str, set] = {}
    for mention in found:
        by_entity.setdefault(mention.note.entity, set()).add(mention.note.record_id)
    labels = {entity: record_labels(ctx, ctx.app, entity, ids)
              for entity, ids in by_entity.items()}
    names = full_names(ctx, [m.note.author_id for m in found])
    items = []
    for mention in found:
        note = mention.note
        info = ctx.app.exposed[note.entity]
        label = labels.get(note.entity, {}).get(note.record_id)
        if label is None:  # a record the user no longer sees
            continue
        body = note.body if len(note.body) <= 140 else note.body[:139] + "…"
        items.append({"author": actor_name(names, note.author_id, note.author), "at": _local(
            ctx, note.created_at), "body": body, "parts": note_parts(body, note.mentioned),
            "record": label, "entity": _(info.title),
            "url": f"/desk/{note.entity}/{note.record_id}#timeline"})
    return {"items": items, "count": notes.unseen_count(ctx)}
