"""Values read once per transaction: a dict kept in the session for its current
transaction (or savepoint), so that what a unit of work asks many times (settings, a
branch's working calendar) costs one query.

The memo belongs to the transaction: a new transaction, a savepoint begun or rolled back
starts an empty one, so nothing read in one transaction is seen in another. Code that
changes what a memo holds calls :func:`forget` in the same session.
"""

from __future__ import annotations

#: session.info key → (the transaction the memo belongs to, its values)
_PREFIX = "fixdesk_memo:"


def memo(session, name: str) -> dict:
    """The memo ``name`` of the session's current transaction (empty at its start)."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    key = _PREFIX + name
    kept = session.info.get(key)
    if kept is None or kept[0] is not transaction:
        kept = session.info[key] = (transaction, {})
    return kept[1]


def forget(session, name: str) -> None:
    """Empty the memo ``name``: what it holds was changed in this session."""
    session.info.pop(_PREFIX + name, None)
