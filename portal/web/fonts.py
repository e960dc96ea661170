"""The Unicode font printed documents embed (badges, CPD certificates, invoices): DejaVu Sans, where Debian's
fonts-dejavu-core puts it. People's names are not all Latin-1 ("Zoë Müller-Łukasz"), and PDF's core fonts
(Helvetica) are: without DejaVu, the documents fall back to them and to letters without their accents."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"


def add_unicode_font(pdf: FPDF, family: str = "Body") -> bool:
    """Embed DejaVu Sans (regular and bold) in `pdf` as `family`; False when the system has no DejaVu."""
    if not (REGULAR.exists() and BOLD.exists()):
        return False
    pdf.add_font(family, "", str(REGULAR))
    pdf.add_font(family, "B", str(BOLD))
    return True


def latin1(text: str) -> str:
    """For a core font: keep what Latin-1 has, fall back to the base letter ("Ł" -> "L"), else "?"."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)
