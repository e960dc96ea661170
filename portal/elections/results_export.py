"""The results in other shapes: the chart of how votes moved (geometry for a server-rendered SVG), CSV and
PDF. Everything here is drawn from the stored count (`results.PostResult`), never recounted, so every format
shows exactly what the page shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from portal.elections.models import Election
from portal.elections.results import PostResult, StageView, Turnout
from portal.text import csv_safe
from portal.web.templating import local_time

# --- the chart ---------------------------------------------------------------------------------------------------

#: Narrow enough to be read on a 390-px phone at its natural size; it scales up to the page on a laptop.
#: Each candidate's name (never shortened) and final votes sit on a line above their bars, which run the
#: chart's whole width.
WIDTH = 400
BARS_LEFT = 8
BARS_RIGHT = 392
TOP = 26
LABEL_LINE = 18
#: A generous width of one character of a label (13 px semi-bold sans), and the room kept for the votes.
LABEL_CHAR = 7.4
VALUE_ROOM = 64
#: A label longer than this goes onto more lines (names are never cut short).
LABEL_FITS = int((BARS_RIGHT - BARS_LEFT - VALUE_ROOM) // LABEL_CHAR)
#: The first count in the lightest shade of the brand colour, the last in the brand colour itself.
LIGHT = (169, 210, 216)
DARK = (11, 92, 107)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str


@dataclass(frozen=True)
class ChartRow:
    name: str
    label: str
    text_y: float
    value: str
    bars: list[Bar]
    #: The label as drawn: one line, or more for a long name (the first beside the votes).
    label_lines: list[str] = field(default_factory=list)
    #: Where this candidate's bars start and end (the quota line is drawn across them, not over the name).
    bars_top: float = 0.0
    bars_end: float = 0.0


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float
    fill: str
    label: str


@dataclass(frozen=True)
class Chart:
    id: str
    width: int
    height: float
    title: str
    desc: str
    rows: list[ChartRow]
    legend: list[LegendItem]
    bars_left: int
    bars_bottom: float
    quota_x: float | None
    quota_label: str


def _shade(i: int, n: int) -> str:
    t = i / (n - 1) if n > 1 else 1.0
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(LIGHT, DARK, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _stage_name(number: int) -> str:
    return "First count" if number == 0 else f"Stage {number}"


def _wrap(text: str, fits: int) -> list[str]:
    """`text` in lines of at most `fits` characters, broken between words (a longer word on its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= fits:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            while len(word) > fits:
                lines.append(word[:fits])
                word = word[fits:]
            lines.append(word)
    return lines or [text]


def chart(post: PostResult) -> Chart | None:
    """Horizontal bars, a group per candidate (most votes at the end first) under a line with the name and the
    final votes, one bar per stage from the first count (lightest) to the last (darkest), with the quota as a
    dashed line. None for a post with no count."""
    if not post.stages:
        return None
    stages = post.stages
    n = len(stages)
    finals = post.final_votes()
    order = sorted(finals, key=lambda name: (-finals[name], name))
    elected = set(post.winners)
    values = [Decimal(row.votes) for stage in stages for row in stage.rows]
    quota = Decimal(post.quota) if post.quota is not None else None
    top = max([*values, quota or Decimal(0), Decimal(1)])
    span = BARS_RIGHT - BARS_LEFT
    bar_h = 18.0 if n == 1 else (8.0 if n <= 6 else max(3.0, 48.0 / n))
    gap = 0.0 if n == 1 else 1.5
    block = n * bar_h + (n - 1) * gap
    rows: list[ChartRow] = []
    y = float(TOP)
    votes_at = [{row.name: row.votes for row in stage.rows} for stage in stages]
    for name in order:
        label = f"{name} (elected)" if name in elected else name
        lines = _wrap(label, LABEL_FITS)
        label_y = y
        y += LABEL_LINE + 16 * (len(lines) - 1)
        bars = []
        for i, stage in enumerate(stages):
            value = Decimal(votes_at[i][name])
            bars.append(
                Bar(
                    x=BARS_LEFT,
                    y=round(y + i * (bar_h + gap), 2),
                    width=round(float(value / top) * span, 2),
                    height=bar_h,
                    fill=_shade(i, n),
                    label=f"{name}, {_stage_name(stage.number).lower()}: {votes_at[i][name]}",
                )
            )
        rows.append(
            ChartRow(
                name=name,
                label=label,
                label_lines=lines,
                text_y=round(label_y + 13, 2),
                value=votes_at[-1][name],
                bars=bars,
                bars_top=round(y - 3, 2),
                bars_end=round(y + block + 3, 2),
            )
        )
        y += block + 14
    bottom = y - 14 + 6
    legend: list[LegendItem] = []
    if n > 1:
        per_row = 4
        for i, stage in enumerate(stages):
            legend.append(
                LegendItem(
                    x=BARS_LEFT + (i % per_row) * 98,
                    y=round(bottom + 12 + (i // per_row) * 18, 2),
                    fill=_shade(i, n),
                    label=_stage_name(stage.number),
                )
            )
        height = bottom + 12 + ((n - 1) // per_row + 1) * 18 + 4
    else:
        height = bottom + 6
    quota_x = round(BARS_LEFT + float(quota / top) * span, 2) if quota is not None else None
    winners = ", ".join(post.winners) or "nobody"
    if n == 1:
        desc = f"One bar per candidate: the votes each received. Elected: {winners}."
    else:
        desc = (
            f"For each candidate, one bar per stage of the count, from the first count (lightest) to stage "
            f"{stages[-1].number} (darkest), showing how votes moved as surpluses were transferred and "
            f"candidates excluded. Elected: {winners}."
        )
    if quota is not None:
        desc += f" The dashed line is the quota, {post.quota}."
    desc += " The tables below give every figure."
    return Chart(
        id=f"chart-{post.contest_id}",
        width=WIDTH,
        height=round(height, 2),
        title=f"How the votes moved: {post.title}" if n > 1 else f"Votes: {post.title}",
        desc=desc,
        rows=rows,
        legend=legend,
        bars_left=BARS_LEFT,
        bars_bottom=round(bottom, 2),
        quota_x=quota_x,
        quota_label=f"Quota {post.quota}" if quota is not None else "",
    )


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_HEADINGS = [
    "Post",
    "Counting order",
    "Rule",
    "Seats",
    "Stage",
    "Stage description",
    "Candidate",
    "Votes",
    "Change",
    "Status",
]


def results_csv(posts: Sequence[PostResult]) -> bytes:
    """One row per candidate per stage (plus the non-transferable papers and the loss by fractions of STV
    counts); posts decided without a vote have one row per candidate elected. UTF-8 with a BOM for Excel;
    names and titles cannot run as spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADINGS)
    for post in posts:
        base = [csv_safe(post.title), post.position + 1, post.rule or post.outcome, post.seats]
        if not post.stages:
            if not post.elected:
                writer.writerow([*base, "", "", "", "", "", "vacant"])
            for decided in post.elected:
                writer.writerow([*base, "", "", csv_safe(decided.name), "", "", "elected unopposed"])
            continue
        for stage in post.stages:
            head = [*base, stage.number, csv_safe(stage.description)]
            for row in stage.rows:
                writer.writerow([*head, csv_safe(row.name), row.votes, row.change, row.status])
            if post.ranked:
                writer.writerow([*head, "Non-transferable", stage.non_transferable, "", ""])
                writer.writerow([*head, "Loss by fractions", stage.loss_by_fractions, "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- PDF -------------------------------------------------------------------------------------------------------

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
INK = (29, 38, 48)
MUTED = (86, 97, 109)
BRAND = (11, 92, 107)
#: Stages per table in the PDF: a long count continues in a second table rather than running off the page.
STAGES_PER_TABLE = 6


class _Doc(FPDF):
    """A4 with a Unicode font where the system has DejaVu (names are not all Latin-1), else Helvetica."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(True, margin=15)
        self.set_creator("IPT UK portal")
        regular, bold = _FONT_DIR / "DejaVuSans.ttf", _FONT_DIR / "DejaVuSans-Bold.ttf"
        self.unicode = regular.exists() and bold.exists()
        if self.unicode:
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold))

    def use(self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.set_font("Body" if self.unicode else "Helvetica", "B" if bold else "", size)
        self.set_text_color(*colour)

    def ok(self, text: str) -> str:
        if self.unicode:
            return text
        return text.replace("→", "->").encode("latin-1", "replace").decode("latin-1")

    def para(
        self, text: str, *, size: float = 10, bold: bool = False, colour: tuple[int, int, int] = INK
    ) -> None:
        self.use(size, bold=bold, colour=colour)
        self.multi_cell(0, size * 0.5, self.ok(text), align="L", new_x="LMARGIN", new_y="NEXT")


def results_pdf(
    election: Election,
    posts: Sequence[PostResult],
    turnout: Turnout,
    *,
    society: str,
    stv_rule: str,
    now: datetime,
) -> bytes:
    """The results as a printable document: turnout and fingerprint, then each post with its winners in
    order, the explanation and the stage-by-stage figures."""
    doc = _Doc()
    doc.set_title(doc.ok(f"{election.title}: results"))
    doc.set_author(doc.ok(society))
    doc.add_page()
    doc.para(society, size=10, colour=MUTED)
    doc.para(f"{election.title}: results", size=18, bold=True, colour=BRAND)
    doc.ln(2)
    if election.published_at is not None:
        doc.para(f"Published on {local_time(election.published_at)}.")
    else:
        doc.para(
            f"DRAFT for review, not published (counted on {local_time(election.counted_at or now)}).",
            bold=True,
        )
    doc.para(
        f"Voting closed on {local_time(election.voting_close_at)}. {turnout.ballots} ballots were cast by "
        f"{turnout.roll} members on the roll: a turnout of {turnout.percent}%."
    )
    doc.para(f"Ranked posts were counted by {stv_rule}.", colour=MUTED)
    if election.ballots_hash:
        doc.para(
            f"Fingerprint of the ballots at the close (SHA-256): {election.ballots_hash}",
            size=8,
            colour=MUTED,
        )
    if election.count_seed is not None:
        doc.para(f"Seed for any lot: {election.count_seed}", size=8, colour=MUTED)
    for post in posts:
        doc.ln(4)
        seats = f"{post.seats} seat{'s' if post.seats != 1 else ''}"
        doc.para(f"{post.position + 1}. {post.title} ({seats})", size=14, bold=True, colour=BRAND)
        how = post.rule_title or {"unopposed": "No vote: elected unopposed", "vacant": "No candidates"}.get(
            post.outcome, post.outcome
        )
        doc.para(how[0].upper() + how[1:], colour=MUTED)
        winners = "; ".join(post.winners) or "nobody"
        doc.para(f"Elected, in order: {winners}", bold=True)
        doc.ln(1)
        for sentence in post.explanation:
            doc.para(sentence, size=9)
        for start in range(0, len(post.stages), STAGES_PER_TABLE):
            _stage_table(doc, post, post.stages[start : start + STAGES_PER_TABLE])
    return bytes(doc.output())


def _stage_table(doc: _Doc, post: PostResult, chosen: Sequence[StageView]) -> None:
    doc.ln(2)
    doc.use(8)
    names = [row.name for row in chosen[0].rows]
    width = doc.epw
    first = min(60.0, width * 0.34)
    col = (width - first) / len(chosen)
    with doc.table(
        col_widths=(first, *([col] * len(chosen))),
        text_align=("LEFT", *(["RIGHT"] * len(chosen))),
        line_height=4.2,
        first_row_as_headings=True,
    ) as table:
        head = table.row()
        head.cell("Candidate")
        for stage in chosen:
            head.cell(doc.ok(f"{_stage_name(stage.number)}: {stage.description}"))
        for i, name in enumerate(names):
            row = table.row()
            row.cell(doc.ok(name))
            for stage in chosen:
                cell = stage.rows[i]
                change = (
                    "" if stage.number == 0 or Decimal(cell.change) == 0 else f" ({_signed(cell.change)})"
                )
                lost = " excluded" if post.ranked and not cell.not_elected_here else " not elected"
                mark = " elected" if cell.elected_here else (lost if cell.excluded_here else "")
                row.cell(doc.ok(f"{cell.votes}{change}{mark}"))
        if post.ranked:
            for label, attr in (
                ("Non-transferable", "non_transferable"),
                ("Loss by fractions", "loss_by_fractions"),
            ):
                row = table.row()
                row.cell(label)
                for stage in chosen:
                    row.cell(str(getattr(stage, attr)))


def _signed(value: str) -> str:
    return value if value.startswith("-") else f"+{value}"
