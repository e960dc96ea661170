"""Printable badges and CPD certificates (fpdf2), laid out from plain dataclasses so the layout knows nothing
of the database.

Layouts: `a6` (one badge per A6 page, for a badge printer or a single reprint at the desk), `a4-4` (four A6
badges on an A4 sheet) and `a4-8` (eight 105 x 74 mm badges on an A4 sheet), both with cut marks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from fpdf import FPDF

from portal.checkin import qr
from portal.web.fonts import add_unicode_font, latin1

LAYOUTS = ("a6", "a4-4", "a4-8")

#: Ribbon name -> (fill RGB, text RGB). Colours chosen for contrast with white text when printed.
RIBBONS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "speaker": ((164, 22, 26), (255, 255, 255)),
    "staff": ((11, 92, 107), (255, 255, 255)),
    "committee": ((88, 44, 131), (255, 255, 255)),
    "organiser": ((122, 75, 0), (255, 255, 255)),
    "delegate": ((230, 234, 238), (29, 38, 48)),
}
RIBBON_LABELS = {
    "speaker": "Speaker",
    "staff": "Staff",
    "committee": "Committee",
    "organiser": "Organiser",
    "delegate": "Delegate",
}

INK = (29, 38, 48)
MUTED = (86, 97, 109)
BRAND = (11, 92, 107)
MARK = (120, 120, 120)


@dataclass(frozen=True)
class Badge:
    name: str
    code: str
    ticket: str = ""
    affiliation: str = ""
    ribbon: str = "delegate"
    event: str = ""


@dataclass(frozen=True)
class CpdSession:
    title: str
    starts: str
    hours: float


@dataclass(frozen=True)
class Certificate:
    name: str
    event: str
    event_dates: str
    society: str
    sessions: Sequence[CpdSession] = field(default_factory=tuple)
    issued_on: date | None = None
    reference: str = ""

    @property
    def total_hours(self) -> float:
        return round(sum(s.hours for s in self.sessions), 2)


class _Doc(FPDF):
    """An FPDF with a Unicode font when the system has DejaVu (names are not all Latin-1), else Helvetica."""

    def __init__(self, orientation: str = "P", format: str | tuple[float, float] = "A4") -> None:
        super().__init__(orientation=orientation, unit="mm", format=format)
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_creator("IPT UK portal")
        self.has_unicode = add_unicode_font(self, "Body")

    def use(self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        family = "Body" if self.has_unicode else "Helvetica"
        self.set_font(family, "B" if bold else "", size)
        self.set_text_color(*colour)

    def text_ok(self, text: str) -> str:
        """Text the current font can draw: with a core font, accents are kept where Latin-1 has them and
        other letters fall back to their base letter."""
        return text if self.has_unicode else latin1(text)


def _fit_lines(
    doc: _Doc, text: str, width: float, *, start: float, smallest: float, bold: bool
) -> tuple[float, list[str]]:
    """The largest size (down to `smallest`) at which `text` fits `width` in at most two lines."""
    text = doc.text_ok(" ".join(text.split()))
    size = start
    while True:
        doc.use(size, bold=bold)
        if doc.get_string_width(text) <= width:
            return size, [text]
        words = text.split(" ")
        if len(words) > 1:
            best: list[str] | None = None
            for cut in range(1, len(words)):
                lines = [" ".join(words[:cut]), " ".join(words[cut:])]
                fits = all(doc.get_string_width(line) <= width for line in lines)
                if fits and (best is None or max(map(len, lines)) < max(map(len, best))):
                    best = lines
            if best is not None:
                return size, best
        if size <= smallest:
            # Still too wide at the smallest size: cut it rather than run off the badge.
            ellipsis = "…" if doc.has_unicode else "..."
            while doc.get_string_width(text + ellipsis) > width and len(text) > 1:
                text = text[:-1]
            return size, [text + ellipsis]
        size -= 1


def _wrapped(doc: _Doc, text: str, width: float, *, start: float, smallest: float) -> tuple[float, list[str]]:
    """The largest size (down to `smallest`) at which `text` fits `width` in two lines; at `smallest`, as many
    lines as it needs (a word wider than the box is broken). Never cut short: an event's title is printed whole."""
    text = doc.text_ok(" ".join(text.split()))
    size = start
    while True:
        doc.use(size)
        lines: list[str] = []
        for word in text.split(" "):
            while doc.get_string_width(word) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and doc.get_string_width(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            if lines and doc.get_string_width(f"{lines[-1]} {word}") <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        if len(lines) <= 2 or size <= smallest:
            return size, lines
        size = max(smallest, size - 0.5)


def _centred(doc: _Doc, lines: list[str], x: float, y: float, w: float, size: float) -> float:
    """Draw lines centred in [x, x+w] from y; return the y below them."""
    line_h = size * 0.3528 * 1.15
    for line in lines:
        doc.set_xy(x, y)
        doc.cell(w, line_h, line, align="C")
        y += line_h
    return y


def _left(doc: _Doc, lines: list[str], x: float, y: float, w: float, size: float) -> float:
    line_h = size * 0.3528 * 1.15
    for line in lines:
        doc.set_xy(x, y)
        doc.cell(w, line_h, line, align="L")
        y += line_h
    return y


def _ribbon(doc: _Doc, badge: Badge, x: float, y: float, w: float, h: float) -> None:
    fill, ink = RIBBONS.get(badge.ribbon, RIBBONS["delegate"])
    doc.set_fill_color(*fill)
    doc.rect(x, y, w, h, style="F")
    doc.use(min(16.0, h * 1.6), bold=True, colour=ink)
    doc.set_xy(x, y)
    doc.cell(w, h, RIBBON_LABELS.get(badge.ribbon, badge.ribbon.title()).upper(), align="C")


def draw_badge(doc: _Doc, badge: Badge, x: float, y: float, w: float, h: float) -> None:
    """One badge in the box (x, y, w, h): portrait boxes stack name over QR; landscape boxes put them side by
    side. The QR code keeps its quiet zone (it is part of the image)."""
    pad = 5.0
    if h >= w:
        ribbon_h = 14.0
        e_size, e_lines = _wrapped(doc, badge.event, w - 2 * pad, start=9, smallest=6.5)
        doc.use(e_size, colour=BRAND)
        below = _centred(doc, e_lines, x + pad, y + pad, w - 2 * pad, e_size)
        size, lines = _fit_lines(doc, badge.name, w - 2 * pad, start=30, smallest=14, bold=True)
        doc.use(size, bold=True)
        cursor = _centred(doc, lines, x + pad, max(y + pad + 8, below + 1.5), w - 2 * pad, size)
        if badge.affiliation:
            a_size, a_lines = _fit_lines(
                doc, badge.affiliation, w - 2 * pad, start=13, smallest=8, bold=False
            )
            doc.use(a_size)
            cursor = _centred(doc, a_lines, x + pad, cursor + 1.5, w - 2 * pad, a_size)
        if badge.ticket:
            t_size, t_lines = _fit_lines(doc, badge.ticket, w - 2 * pad, start=10, smallest=7, bold=False)
            doc.use(t_size, colour=MUTED)
            cursor = _centred(doc, t_lines[:1], x + pad, cursor + 1, w - 2 * pad, t_size)
        space = y + h - ribbon_h - cursor - 2
        side = max(25.0, min(w - 2 * pad - 10, space))
        doc.image(
            qr.pil_image(badge.code, box_size=4), x=x + (w - side) / 2, y=y + h - ribbon_h - side - 1, w=side
        )
        _ribbon(doc, badge, x, y + h - ribbon_h, w, ribbon_h)
    else:
        ribbon_h = 9.0
        side = min(h - ribbon_h - 2, w * 0.45)
        text_w = w - side - pad - 2
        e_size, e_lines = _wrapped(doc, badge.event, text_w, start=7.5, smallest=6)
        doc.use(e_size, colour=BRAND)
        below = _left(doc, e_lines, x + pad, y + pad - 1, text_w, e_size)
        size, lines = _fit_lines(doc, badge.name, text_w, start=22, smallest=11, bold=True)
        doc.use(size, bold=True)
        cursor = _left(doc, lines, x + pad, max(y + pad + 5, below + 1), text_w, size)
        if badge.affiliation:
            a_size, a_lines = _fit_lines(doc, badge.affiliation, text_w, start=10, smallest=7, bold=False)
            doc.use(a_size)
            cursor = _left(doc, a_lines, x + pad, cursor + 1, text_w, a_size)
        if badge.ticket:
            t_size, t_lines = _fit_lines(doc, badge.ticket, text_w, start=8.5, smallest=6, bold=False)
            doc.use(t_size, colour=MUTED)
            _left(doc, t_lines[:1], x + pad, cursor + 1, text_w, t_size)
        doc.image(qr.pil_image(badge.code, box_size=4), x=x + w - side - 1, y=y + 1, w=side)
        _ribbon(doc, badge, x, y + h - ribbon_h, w, ribbon_h)


def _cut_marks(doc: _Doc, xs: Sequence[float], ys: Sequence[float], page_w: float, page_h: float) -> None:
    """Guillotine marks: short ticks at the page edges on every cut line, and a cross where cuts meet."""
    doc.set_draw_color(*MARK)
    doc.set_line_width(0.2)
    tick = 6.0
    for x in xs:
        doc.line(x, 0, x, tick)
        doc.line(x, page_h - tick, x, page_h)
    for y in ys:
        doc.line(0, y, tick, y)
        doc.line(page_w - tick, y, page_w, y)
    for x in xs:
        for y in ys:
            doc.line(x - 3, y, x + 3, y)
            doc.line(x, y - 3, x, y + 3)


def _chunks(items: Sequence[Badge], size: int) -> Iterator[Sequence[Badge]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def badges_pdf(badges: Sequence[Badge], *, layout: str = "a6", title: str = "Badges") -> bytes:
    """All the badges in one PDF. An empty list gives one blank page that says so (a PDF needs a page)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    if layout == "a6":
        doc = _Doc(format=(105.0, 148.0))
        page_w, page_h, cols, rows = 105.0, 148.0, 1, 1
    else:
        doc = _Doc(format="A4")
        page_w, page_h = 210.0, 297.0
        cols, rows = (2, 2) if layout == "a4-4" else (2, 4)
    doc.set_title(title)
    cell_w, cell_h = page_w / cols, page_h / rows
    if not badges:
        doc.add_page()
        doc.use(12)
        doc.set_xy(10, 20)
        doc.cell(page_w - 20, 10, "No badges match this selection.", align="C")
    for sheet in _chunks(badges, cols * rows):
        doc.add_page()
        for i, badge in enumerate(sheet):
            col, row = i % cols, i // cols
            draw_badge(doc, badge, col * cell_w, row * cell_h, cell_w, cell_h)
        if cols * rows > 1:
            _cut_marks(
                doc,
                [cell_w * c for c in range(1, cols)],
                [cell_h * r for r in range(1, rows)],
                page_w,
                page_h,
            )
    return bytes(doc.output())


def certificate_pdf(cert: Certificate) -> bytes:
    """A one-page A4 certificate of attendance listing the sessions attended and their CPD hours."""
    doc = _Doc(format="A4")
    doc.set_title(f"CPD certificate - {cert.name}")
    doc.add_page()
    doc.set_fill_color(*BRAND)
    doc.rect(0, 0, 210, 12, style="F")
    doc.use(11, bold=True, colour=BRAND)
    doc.set_xy(20, 24)
    doc.cell(170, 8, doc.text_ok(cert.society), align="C")
    doc.use(26, bold=True)
    doc.set_xy(20, 40)
    doc.cell(170, 14, "Certificate of attendance", align="C")
    doc.use(12, colour=MUTED)
    doc.set_xy(20, 60)
    doc.cell(170, 7, "This certifies that", align="C")
    size, lines = _fit_lines(doc, cert.name, 170, start=24, smallest=14, bold=True)
    doc.use(size, bold=True)
    cursor = _centred(doc, lines, 20, 70, 170, size)
    doc.use(12, colour=MUTED)
    doc.set_xy(20, cursor + 3)
    doc.cell(170, 7, "attended", align="C")
    e_size, e_lines = _fit_lines(doc, cert.event, 170, start=16, smallest=10, bold=True)
    doc.use(e_size, bold=True)
    cursor = _centred(doc, e_lines, 20, cursor + 11, 170, e_size)
    doc.use(11, colour=MUTED)
    doc.set_xy(20, cursor + 1)
    doc.cell(170, 6, doc.text_ok(cert.event_dates), align="C")
    y = cursor + 16
    doc.set_draw_color(*MARK)
    doc.set_line_width(0.3)
    doc.use(10, bold=True, colour=MUTED)
    doc.set_xy(25, y)
    doc.cell(110, 7, "Session")
    doc.cell(35, 7, "Date")
    doc.cell(20, 7, "CPD hours", align="R")
    doc.line(25, y + 7.5, 185, y + 7.5)
    y += 9
    for session in cert.sessions:
        doc.use(10)
        t_size, t_lines = _fit_lines(doc, session.title, 108, start=10, smallest=7, bold=False)
        doc.use(t_size)
        doc.set_xy(25, y)
        doc.cell(110, 6.5, t_lines[0] if len(t_lines) == 1 else " ".join(t_lines)[:90])
        doc.use(10)
        doc.cell(35, 6.5, doc.text_ok(session.starts))
        doc.cell(20, 6.5, f"{session.hours:g}", align="R")
        y += 7
        if y > 250:
            break
    doc.line(25, y + 0.5, 185, y + 0.5)
    doc.use(11, bold=True)
    doc.set_xy(25, y + 2)
    doc.cell(145, 7, "Total CPD hours")
    doc.cell(20, 7, f"{cert.total_hours:g}", align="R")
    doc.use(9, colour=MUTED)
    doc.set_xy(20, 270)
    issued = cert.issued_on.strftime("%-d %B %Y") if cert.issued_on else ""
    doc.cell(170, 5, doc.text_ok(f"Issued {issued}. Reference {cert.reference}."), align="C")
    doc.set_xy(20, 276)
    doc.cell(
        170, 5, "Attendance was recorded when the delegate's badge was scanned at each session.", align="C"
    )
    return bytes(doc.output())
