"""Reading printed papers back with poppler (``pdftotext``, ``pdffonts``), as the tests of
every paper do. Importable from any test: ``tests/conftest.py`` puts this folder on the
path."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def pdftotext(data: bytes | Path, layout: bool = False) -> str:
    """The text of a PDF (its bytes or its file); ``layout`` keeps the columns."""
    if isinstance(data, Path):
        data = data.read_bytes()
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(args, input=data, check=True, capture_output=True).stdout.decode()


def pdffonts(data: bytes) -> str:
    """The fonts table of a PDF (``pdffonts`` reads files only)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(data)
        fh.flush()
        return subprocess.run(["pdffonts", fh.name], check=True, capture_output=True,
                              text=True).stdout


def words(data: bytes) -> list[tuple[float, float, list[tuple[str, float]]]]:
    """Each page's width and height (points) and its words with their right edge
    (``pdftotext -bbox``): ``[(width, height, [(word, x_max), ...]), ...]``."""
    import html
    import re

    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(data)
        fh.flush()
        out = subprocess.run(["pdftotext", "-bbox", fh.name, "-"], check=True,
                             capture_output=True, text=True).stdout
    pages = []
    for width, height, body in re.findall(
            r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        found = [(html.unescape(text), float(x_max)) for x_max, text in re.findall(
            r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>',
            body)]
        pages.append((float(width), float(height), found))
    return pages


def scanned_codes(data: bytes, resolution: int = 300) -> list[str]:
    """What a phone would read off the printed QR codes and barcodes of a PDF, or of a
    PNG image, as ``kind:data`` (``QR-Code:…``, ``CODE-128:…``), sorted: the pages as
    pixels (``pdftoppm``), read by ``zbarimg``."""
    with tempfile.TemporaryDirectory() as folder:
        images = []
        if data.startswith(b"\x89PNG"):
            images.append(Path(folder, "code.png"))
            images[0].write_bytes(data)
        else:
            subprocess.run(["pdftoppm", "-r", str(resolution), "-png", "-", f"{folder}/page"],
                           input=data, check=True, capture_output=True)
            images = sorted(Path(folder).glob("page*.png"))
        found = subprocess.run(["zbarimg", "--quiet", *map(str, images)], capture_output=True)
    return sorted(line for line in found.stdout.decode().splitlines() if line)
