"""Finding English on a Chinese desk: the visible text of a page, and the words in it that
are neither Chinese nor data.

A word of Latin letters on a zh_CN page is allowed only when it is part of the site's data
(a customer's name, a model "iR 2206", a username) or one of :data:`ALLOWED` (abbreviations
a Chinese office writes in Latin letters too). Field names, raw codes ("dispatched") and
untranslated messages are what is left.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from sqlalchemy import JSON, Enum, String, Text, select

#: abbreviations and units a Chinese office writes in Latin letters
ALLOWED = {"Ctrl", "Alt", "Enter", "Esc", "Tab", "PNG", "JPEG", "WebP",
           "PDF", "CSV", "Excel", "API", "QR", "SN", "VAT", "CNY", "RMB", "OK", "ID",
           "Tel", "SH", "JD", "WO", "AM", "PM", "km", "KB", "MB", "GB", "h", "min", "xlsx",
           "csv", "pdf", "Email", "Fixdesk", "fixdesk", "SMS", "URL", "http", "https", "www",
           "TOTP", "JSON", "B", "A", "C", "D"}
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
#: attributes whose text a user reads or hears
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
#: tables whose text is not what the user typed (logs, codes, sessions)
NOT_DATA = {"audit_log", "alembic_version", "web_session", "login_failure", "job",
            "print_log", "api_token", "hook_switch", "setting_value", "naming_series"}


#: elements whose own text nobody reads (their descendants' attributes are still read)
HIDDEN = frozenset({"script", "style", "template", "datalist"})


def visible(html: str) -> tuple[str, list[str]]:
    """The text a user sees or hears on ``html`` (one line per piece) and its links.

    Parsed with lxml (libxml2): Python's own ``html.parser`` made parsing the desk's pages
    cost as much as serving them."""
    import lxml.html
    from lxml import etree

    parts: list[str] = []
    links: list[str] = []
    try:
        root = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):  # nothing to parse (an empty answer)
        return "", []

    def read(element, hidden: bool) -> None:
        tag = element.tag
        if not isinstance(tag, str):  # a comment: only what follows it is read
            return
        if (element.get("lang") or "").startswith("en"):  # the switch to "English"
            return
        if tag in HIDDEN:
            hidden = True
        else:
            if tag == "a" and element.get("href"):
                links.append(element.get("href"))
            parts.extend(element.get(name) for name in READ_ATTRIBUTES if element.get(name))
            if tag == "input" and element.get("type") in ("submit", "button") \
                    and element.get("value"):
                parts.append(element.get("value"))
        if not hidden and element.text and element.text.strip():
            parts.append(element.text.strip())
        for child in element:
            read(child, hidden)
            if not hidden and child.tail and child.tail.strip():
                parts.append(child.tail.strip())

    read(root, False)
    return "\n".join(parts), links


def data_words(app) -> set[str]:
    """Every Latin word in the site's own text data (names, models, addresses, users)."""
    words: set[str] = set()
    with app.sessions() as session:
        for table in app.tables():  # the kernel's and the enabled plugins' only
            if table.name in NOT_DATA:
                continue
            for column in table.columns:
                kind = column.type
                if isinstance(kind, JSON):  # tags people type: an engineer's skills
                    for value in session.scalars(select(column).limit(5000)):
                        words.update(WORD.findall(str(value or "")))
                    continue
                if not isinstance(kind, String | Text) or isinstance(kind, Enum):
                    continue
                for value in session.scalars(select(column).distinct().limit(5000)):
                    if value:
                        words.update(WORD.findall(str(value)))
    return words


def english(text: str, allowed: set[str]) -> list[str]:
    """The lines of ``text`` with a Latin word that is neither data nor allowed."""
    found = []
    for line in text.splitlines():
        if any(w not in allowed and w not in ALLOWED for w in WORD.findall(line)):
            found.append(line.strip()[:160])
    return found


def same_site_links(base: str, links: list[str]) -> list[str]:
    """The links of a page that stay on the desk (absolute paths, no fragment)."""
    kept = []
    for href in links:
        url = urlsplit(urljoin(base, href))
        if url.scheme not in ("", "http") or (url.netloc and url.netloc != "testserver"):
            continue
        kept.append(url.path + (f"?{url.query}" if url.query else ""))
    return kept
