"""The compact print faces (``kernel.documents.fonts``): cut once from the installed Noto
CJK faces, named first by every paper, with the full faces behind them for rare
characters. Papers are read back with poppler; the faces with fontTools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fontTools.ttLib import TTFont
from pdf_tools import pdffonts, pdftotext

from kernel.documents import fonts, pdf

PAGE = {"width": "148mm", "height": "210mm", "footer": "{page}/{pages}"}


def _print(html: str, tmp_path: Path) -> bytes:
    document = pdf.render(f"<html><body>{html}</body></html>", base_dir=tmp_path, **PAGE)
    return pdf.write([document])


def _embedded(fonts_table: str) -> set[str]:
    """The embedded faces' names without their subset tags (``ABCDEF+``)."""
    return {line.split()[0].split("+", 1)[-1] for line in fonts_table.splitlines()[2:]}


def test_papers_print_in_the_compact_faces(tmp_path):
    data = _print("<p>服务凭证 No. WO-SH-2026-00001 ¥1,280.00 ① ℃ ㎡</p>"
                  "<b>合计：壹仟贰佰捌拾元整</b>", tmp_path)
    assert _embedded(pdffonts(data)) == {"Fixdesk-Print-Sans", "Fixdesk-Print-Sans-Bold"}
    text = pdftotext(data)
    assert "服务凭证 No. WO-SH-2026-00001 ¥1,280.00 ① ℃ ㎡" in text
    assert "合计：壹仟贰佰捌拾元整" in text


def test_a_character_outside_them_falls_back_to_the_full_face(tmp_path):
    # 喆 (common in names) is not in GB 2312; 𠮷 is outside the basic plane
    data = _print("<p>客户 王喆、张𠮷</p><p><b>联系人 陈喆</b></p>", tmp_path)
    assert _embedded(pdffonts(data)) == {"Fixdesk-Print-Sans", "Fixdesk-Print-Sans-Bold",
                                         "Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC-Bold"}
    text = pdftotext(data)
    assert "客户 王喆、张𠮷" in text and "联系人 陈喆" in text


def test_the_character_set_is_gb2312_with_latin_symbols_and_full_width_forms():
    points = fonts.characters()
    for kept in "啊齄服务凭证壹贰叁¥€āǎ①℃№×÷≤□√㎡、。（）：，ＡＢ":
        assert ord(kept) in points, kept
    for left_out in "喆堃𠮷한":
        assert ord(left_out) not in points, left_out
    assert 9000 < len(points) < 11000  # code points; the faces hold ~8,700 glyphs


def test_build_cuts_each_missing_face_once_and_drops_stale_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXDESK_FONT_CACHE", str(tmp_path))
    stale = tmp_path / "fixdesk-print-sans-regular-0123456789abcdef.otf"  # an older build
    stale.write_bytes(b"from an older fonts-noto-cjk")
    assert fonts.ready_faces() == {}

    faces = fonts.build({ord(c) for c in "服务凭证AB"})
    assert set(faces) == {400, 700} and fonts.ready_faces() == faces
    assert not stale.exists()
    for weight, path in faces.items():
        assert path.parent == tmp_path and path.name.endswith(".ttf")
        face = TTFont(str(path))
        assert {chr(cp) for cp in face.getBestCmap()} == set("服务凭证AB")
        assert face["OS/2"].usWeightClass == weight
        assert "glyf" in face and "CFF " not in face  # TrueType outlines
        # everyday characters get the lowest glyph ids: ASCII, then GB 2312 level 1
        # in its (pinyin) order
        cmap = face.getBestCmap()
        assert [face.getGlyphID(cmap[ord(c)]) for c in "AB服凭务证"] == [1, 2, 3, 4, 5, 6]
    built = {path: path.stat().st_mtime_ns for path in faces.values()}
    assert fonts.build({ord("x")}) == faces  # already there: nothing is cut again
    assert {path: path.stat().st_mtime_ns for path in faces.values()} == built


#: a fresh process (the one font configuration of a process keeps the faces it was given)
WITHOUT_FACES = """
import subprocess, sys
from pathlib import Path
from kernel.documents import fonts, pdf
def paper(text):
    document = pdf.render(f"<p>{text}</p>", base_dir=Path(sys.argv[1]), width="148mm",
                          height="210mm", footer="")
    return pdf.write([document])
Path(sys.argv[1], "first.pdf").write_bytes(paper("服务凭证"))
paper("再印一张")
[builder] = fonts._started  # the first print started one process for the faces, only one
builder.kill()
print(" ".join(builder.args[1:]))
"""


def test_until_they_are_built_papers_use_the_full_faces_and_a_build_starts(tmp_path):
    env = {**os.environ, "FIXDESK_FONT_CACHE": str(tmp_path / "empty")}
    run = subprocess.run([sys.executable, "-c", WITHOUT_FACES, str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "-m kernel.documents.fonts"
    data = (tmp_path / "first.pdf").read_bytes()
    assert _embedded(pdffonts(data)) == {"Noto-Sans-CJK-SC"}
    assert "服务凭证" in pdftotext(data)


def test_print_fonts_command_lists_the_faces(fixdesk):
    result = fixdesk("print-fonts")
    assert result.code == 0, result.err
    assert result.out.split() == [str(p) for p in fonts.ready_faces().values()]


def test_weasyprints_copies_of_the_faces_go_when_the_process_ends(make_site, app_of,
                                                                  tmp_path):
    """WeasyPrint copies ``@font-face`` files into a temporary folder of its own and
    removed none of them at the exit of a batch's worker processes."""
    from sqlalchemy import select

    from kernel.models import CustomerEquipment

    site = make_site([], demo=True)
    with app_of(site).sessions() as session:
        ids = list(session.scalars(select(CustomerEquipment.id)))
    assert len(ids) >= 12  # a batch big enough for worker processes
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    fixdesk = Path(sys.executable).with_name("fixdesk")
    run = subprocess.run([str(fixdesk), "--site", str(site.path), "print",
                          "kernel.equipment_record", "--ids", ",".join(map(str, ids)),
                          "--workers", "2", "-o", str(tmp_path / "records.pdf")],
                         env={**os.environ, "TMPDIR": str(temporary)},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Fixdesk-Print-Sans" in pdffonts((tmp_path / "records.pdf").read_bytes())
    assert list(temporary.iterdir()) == []
