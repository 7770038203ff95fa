"""Compact print faces: Noto Sans CJK SC cut down to the characters papers use.

WeasyPrint subsets every face it embeds, for every PDF, keeping the glyph ids the text
was shaped with. A Chinese character's glyph id in the 20 MB Noto CJK collections is
high, so each subset walks most of the face: regular and bold cost ~40 ms of a ~150 ms
service voucher, and copying both faces out of HarfBuzz for each document ~15 ms more.

The compact faces hold GB 2312 (6,763 characters, with its symbols) and the Latin,
punctuation, symbol and full-width blocks: ~8,700 glyphs, 2 MB a face. Papers name
them first (``FAMILY``, declared by :func:`font_face_css`); a character outside them
(a rare one in a name, say) falls back to the full Noto face, character by character,
so no text is lost and the glyphs look the same.

They are built once per machine from the installed faces (found with ``fc-match``)
into :func:`cache_dir`, by ``make setup`` (``fixdesk fonts``) or, when a print finds
them missing, by a background process; until they are there papers use the full faces.
A face is rebuilt when its source changes (an upgrade of ``fonts-noto-cjk``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path

#: the CSS family papers name first; a file of the cache is never opened under another
FAMILY = "Fixdesk Print Sans"
#: the installed family the compact faces are cut from (and fall back to)
SOURCE_FAMILY = "Noto Sans CJK SC"
#: CSS weight → fontconfig style of the source face
WEIGHTS = {400: "Regular", 700: "Bold"}
#: raise when the character set or the build options change: every face is rebuilt
BUILD_VERSION = 3
#: Unicode blocks kept whole: Latin with pinyin's tone marks, general punctuation,
#: letter-like symbols and number forms (℃, №, Ⅷ), arrows and maths (×, ÷, ≤),
#: enclosed numbers (①), box drawing and shapes (□, ■, ○, √ in symbols), CJK
#: punctuation, enclosed CJK and units (㎡, ㈱), full-width forms
BLOCKS = ((0x20, 0x24F), (0x300, 0x36F), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x22FF),
          (0x2460, 0x26FF), (0x3000, 0x303F), (0x3200, 0x33FF), (0xFF00, 0xFFEF))
#: OpenType features horizontal Chinese and Latin text uses; the other scripts'
#: and vertical forms would pull thousands of glyphs back in
FEATURES = ("kern", "palt", "halt", "liga", "ccmp", "mark", "mkmk")


def cache_dir() -> Path:
    """Where the compact faces are kept: ``FIXDESK_FONT_CACHE``, else the user's cache."""
    configured = os.environ.get("FIXDESK_FONT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fixdesk" / "fonts"


def _gb2312(rows: range):
    """The characters of GB 2312's ``rows`` (lead bytes), in the table's order."""
    for first in rows:
        for second in range(0xA1, 0xFF):
            try:
                yield ord(bytes((first, second)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # an unassigned position of the table


def characters() -> set[int]:
    """The code points a compact face holds: GB 2312 and :data:`BLOCKS`."""
    return {cp for low, high in BLOCKS for cp in range(low, high + 1)} | \
        set(_gb2312(range(0xA1, 0xF8)))


@cache
def source_faces() -> dict[int, tuple[Path, int]]:
    """The installed source face (file, index in its collection) per CSS weight."""
    faces = {}
    for weight, style in WEIGHTS.items():
        try:
            found = subprocess.run(
                ["fc-match", "--format=%{file}|%{index}|%{family}",
                 f"{SOURCE_FAMILY}:style={style}"],
                capture_output=True, text=True, timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return {}
        path, _sep, rest = found.partition("|")
        index, _sep, family = rest.partition("|")
        if SOURCE_FAMILY not in family.split(",") or not Path(path).is_file():
            return {}  # fontconfig offers a substitute: nothing to cut from
        faces[weight] = (Path(path), int(index or 0))
    return faces


def face_path(weight: int, source: tuple[Path, int]) -> Path:
    """The cache file of a compact face: named after its source file and the build."""
    path, index = source
    stat = path.stat()
    key = f"{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}|{BUILD_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"fixdesk-print-sans-{WEIGHTS[weight].lower()}-{digest}.ttf"


def ready_faces() -> dict[int, Path]:
    """The compact face per weight, or nothing unless every weight is built."""
    try:
        faces = {weight: face_path(weight, source)
                 for weight, source in source_faces().items()}
    except OSError:
        return {}
    if len(faces) < len(WEIGHTS) or not all(p.is_file() for p in faces.values()):
        return {}
    return faces


def priority() -> list[int]:
    """Code points in the order their glyphs get ids: ASCII, Chinese punctuation and
    full-width forms, then GB 2312's 3,755 common characters (level 1); the rest follow."""
    return [*range(0x20, 0x7F), *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0),
            *_gb2312(range(0xB0, 0xD8))]


def _to_truetype(font) -> None:
    """Turn the CFF outlines of ``font`` into TrueType ones (quadratic, unhinted).

    HarfBuzz subsets TrueType outlines with their glyph ids kept far faster than CFF,
    and their glyphs can be put in another order (:func:`_common_first`)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"] = newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements"):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\0\1\0\0"


def _common_first(font) -> None:
    """Give the glyphs of :func:`priority`'s characters the lowest ids.

    WeasyPrint keeps every glyph id up to the highest one a paper uses, so the lower
    the ids of everyday characters, the less each document's subset holds."""
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs

    old = font.getGlyphOrder()
    cmap = font.getBestCmap()
    first = dict.fromkeys([old[0], *(cmap[cp] for cp in priority() if cp in cmap)])
    reorderGlyphs(font, [*first, *(name for name in old if name not in first)])


def _cut(source: tuple[Path, int], target: Path, points: set[int]) -> None:
    """Write the face of ``source`` holding only ``points`` to ``target`` (atomically)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = list(FEATURES)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    options.hinting = False
    font = TTFont(str(source[0]), fontNumber=source[1])
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=points)
    subsetter.subset(font)
    if "CFF " in font:
        _to_truetype(font)
    _common_first(font)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(str(partial))
    os.replace(partial, target)


def build(points: set[int] | None = None) -> dict[int, Path]:
    """Build the compact faces that are missing; the faces, or nothing without a source.

    Several processes may call it at once (server workers, test workers): a lock file
    makes the others wait for the first and then find the faces built."""
    sources = source_faces()
    if len(sources) < len(WEIGHTS):
        return {}
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        faces = {}
        for weight, source in sources.items():
            target = faces[weight] = face_path(weight, source)
            if not target.is_file():
                _cut(source, target, characters() if points is None else points)
        for stale in folder.glob("fixdesk-print-sans-*"):
            if stale not in faces.values():
                stale.unlink(missing_ok=True)
    return faces


_background = threading.Lock()
_started: list[subprocess.Popen] = []


def build_in_background() -> None:
    """Start building the faces in a process of their own, once per process."""
    with _background:
        if _started or not source_faces():
            return
        _started.append(subprocess.Popen(
            [sys.executable, "-m", "kernel.documents.fonts"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))


def font_face_css() -> str:
    """``@font-face`` rules for the compact faces, or "" (then built in the background)."""
    faces = ready_faces()
    if not faces:
        build_in_background()
        return ""
    return "".join(
        f'@font-face {{ font-family: "{FAMILY}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}' for weight, path in sorted(faces.items()))


if __name__ == "__main__":
    build()
