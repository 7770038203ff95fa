"""The text a record is found by, and the index terms of that text and of a search.

A list's search ``q`` finds the records where one of the entity's search fields
(``__search__``) holds ``q`` as a substring, case-insensitively. To answer that from an
index on SQLite (FTS5) and PostgreSQL (GIN over a ``tsvector``) alike, the kernel keeps
a derived text per record (:func:`record_text`: the fields' values case-folded, one per
line) and splits it here into terms the two databases index the same way:

* Chinese, Japanese and Korean characters (written without spaces): each character and
  each pair of neighbours (``卡纸`` → ``卡``, ``纸``, ``卡纸``). A search of one
  character looks for it; a longer one for all its pairs.
* runs of other letters and digits (a code, a serial or phone number, a word): each
  two and each three characters in a row (``ir2206`` → ``ir``, ``r2``, …, ``ir2``,
  ``r22``, ``220``, ``206``). A fragment of two looks for it, a longer one for its
  threes (``2206`` → ``220`` and ``206``: found inside ``ir2206``, or as the last four
  digits of a phone number). One letter or digit alone narrows nothing: most records
  hold it, and the list is read in its own order instead.
* anything else (spaces, punctuation) separates runs.

The terms only narrow the candidates: the search then confirms each candidate's text
holds ``q`` itself (:func:`like_pattern`), so the answer is exactly "some field contains
``q``" on both databases. Case folding is Python's :meth:`str.casefold`, for every
script, the same on both databases.
"""

from __future__ import annotations

import enum
import re

#: the most three-character terms a search of a long code looks for
MAX_GRAMS = 6
#: the version of the terms: a change of this module's splitting makes it one more, and
#: ``fixdesk migrate`` rebuilds every index made by an older one
VERSION = 1

#: scripts written without spaces: Han (with extensions and compatibility ideographs),
#: kana, Hangul and Bopomofo
_UNSPACED = ("\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f"
             "\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af"
             "\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
#: a run of those (group 1), or a run of other letters and digits (group 2)
_RUN = re.compile(f"([{_UNSPACED}]+)|([^\\W_{_UNSPACED}]+)")


def is_unspaced(char: str) -> bool:
    """Whether ``char`` belongs to a script written without spaces (Chinese, Japanese,
    Korean)."""
    match = _RUN.fullmatch(char)
    return bool(match and match.group(1))


def fold(value) -> str:
    """A field's value as the search compares it: its text, case-folded (``None``: "")."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value).casefold()


def record_text(values) -> str:
    """The derived text of a record from its search fields' ``values``: each folded, one
    per line (a search never holds a line break, so it never matches across fields)."""
    return "\n".join(text for text in map(fold, values) if text)


def _runs(text: str):
    """``(unspaced, run)`` for each run of Chinese/Japanese/Korean characters and each run
    of other letters and digits in ``text``."""
    for match in _RUN.finditer(text):
        yield match.group(1) is not None, match.group()


def _grams(run: str, n: int) -> list[str]:
    """The ``n`` characters from each position of ``run`` (none when shorter)."""
    return [run[i:i + n] for i in range(len(run) - n + 1)]


def index_terms(text: str) -> list[str]:
    """The index terms of a derived text (:func:`record_text`), each once."""
    terms: list[str] = []
    for match in _RUN.finditer(text):
        run = match.group()
        if match.group(1) is not None:  # each character, each pair of neighbours
            terms += run
            terms += _grams(run, 2)
        else:  # each pair and each three in a row (a run of one: nothing)
            terms += _grams(run, 2)
            terms += _grams(run, 3)
    return list(dict.fromkeys(terms))


def query_terms(q: str) -> tuple[str, ...]:
    """The terms a record must all have to hold the search ``q``; none when ``q`` is too
    short to narrow anything (one letter or digit, punctuation): then most records hold
    it, and the list is read in its own order (:func:`kernel.search_index.search_condition`).
    """
    terms: list[str] = []
    for match in _RUN.finditer(fold(q)):
        run = match.group()
        if match.group(1) is not None:
            terms += [run] if len(run) == 1 else _grams(run, 2)
        elif len(run) == 2:
            terms.append(run)
        elif len(run) > 2:
            grams = _grams(run, 3)  # the first, the last and some between
            step = max(1, (len(grams) - 1) // (MAX_GRAMS - 1))
            terms += [*grams[:-1:step][:MAX_GRAMS - 1], grams[-1]]
    return tuple(dict.fromkeys(terms))


def like_pattern(q: str) -> str:
    """The LIKE pattern (escape character ``\\``) of a derived text holding ``q``."""
    folded = fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{folded}%"
