"""Badge PDFs and CPD certificates render: page counts, names, and QR codes that a real decoder reads back.

Read with poppler's pdftotext, pdfinfo and pdftoppm (Debian's poppler-utils, installed by .ci/run)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from support import SECRET

from portal.checkin import badges, pdf
from portal.cli import main

KEY = b"pdf-test-secret-key-that-is-long-enough-0000"
PEOPLE = [
    ("Zoë Łukasiewicz-Brown", "Tavistock and Portman NHS Foundation Trust", "speaker"),
    ("Al Li", "", "delegate"),
    ("Maximilian Alexander Featherstonehaugh", "University of Edinburgh", "committee"),
    ("Sam Staff", "IPT UK", "staff"),
    ("Eve Evans", "Leeds", "delegate"),
]


def sample_badges() -> list[pdf.Badge]:
    return [
        pdf.Badge(
            name=name,
            code=badges.issue(KEY, registration_id=i + 1, event_id=3, serial=1),
            ticket="Full conference",
            affiliation=affiliation,
            ribbon=ribbon,
            event="Annual Conference",
        )
        for i, (name, affiliation, ribbon) in enumerate(PEOPLE)
    ]


def text_of(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pages_of(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def write(tmp_path: Path, content: bytes, name: str = "out.pdf") -> Path:
    assert content.startswith(b"%PDF")
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.fixture(autouse=True)
def _poppler() -> None:
    assert shutil.which("pdftotext"), "poppler-utils is needed (apt-get install poppler-utils)"


@pytest.mark.parametrize(("layout", "pages"), [("a6", 5), ("a4-4", 2), ("a4-8", 1)])
def test_each_layout_puts_every_badge_on_the_expected_number_of_pages(tmp_path, layout, pages):
    path = write(tmp_path, pdf.badges_pdf(sample_badges(), layout=layout))
    assert pages_of(path) == pages
    text = " ".join(text_of(path).split())
    for name in ("Zoë", "Al Li", "Sam Staff", "Eve Evans"):
        assert name in text
    assert "SPEAKER" in text and "COMMITTEE" in text and "STAFF" in text


def test_the_qr_codes_on_a_printed_sheet_scan(tmp_path):
    path = write(tmp_path, pdf.badges_pdf(sample_badges(), layout="a4-4"))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True
    )
    image = Image.open(next(tmp_path.glob("page*.png")))
    found = {r.text for r in zxingcpp.read_barcodes(image)}
    assert found == {b.code for b in sample_badges()[:4]}


def test_an_empty_selection_gives_one_page_that_says_so(tmp_path):
    path = write(tmp_path, pdf.badges_pdf([], layout="a4-8"))
    assert pages_of(path) == 1
    assert "No badges match" in text_of(path)


def test_a_cpd_certificate_lists_the_sessions_and_total_hours(tmp_path):
    cert = pdf.Certificate(
        name="Zoë Brown",
        event="Annual Conference",
        event_dates="12 March 2027",
        society="IPT UK",
        sessions=[
            pdf.CpdSession("IPT for adolescents", "12 Mar 2027", 1.5),
            pdf.CpdSession("Grief", "12 Mar 2027", 3),
        ],
        reference="E1-R2",
    )
    text = " ".join(text_of(write(tmp_path, pdf.certificate_pdf(cert))).split())
    assert "Zoë Brown" in text and "IPT for adolescents" in text and "Total CPD hours 4.5" in text


def test_the_office_downloads_a_sheet_for_the_event_or_a_ticket_type(office_client, conference, tmp_path):
    everyone = office_client.get(f"/checkin/{conference.event.id}/badges.pdf", params={"layout": "a4-8"})
    assert everyone.status_code == 200
    assert everyone.headers["content-type"] == "application/pdf"
    text = text_of(write(tmp_path, everyone.content, "all.pdf"))
    assert "Alice" in text and "Bob" in text and "Dan" in text
    assert "Carol" not in text and "Erin" not in text  # cancelled, waitlisted: no badge by default
    speakers = office_client.get(
        f"/checkin/{conference.event.id}/badges.pdf", params={"layout": "a6", "ticket": conference.speaker.id}
    )
    path = write(tmp_path, speakers.content, "speakers.pdf")
    assert pages_of(path) == 1
    assert "Bob Baker" in text_of(path) and "SPEAKER" in text_of(path)


def test_the_badges_page_has_the_download_button(office_client, conference):
    page = office_client.get(f"/checkin/{conference.event.id}/badges")
    assert page.status_code == 200
    assert "Download PDF (3 badges)" in page.text
    assert f"/checkin/{conference.event.id}/badges.pdf" in page.text


def test_door_staff_cannot_print_badges(door_client, conference):
    assert door_client.get(f"/checkin/{conference.event.id}/badges.pdf").status_code == 403


def test_the_office_prints_one_a6_badge(office_client, conference, tmp_path):
    response = office_client.get(f"/checkin/registrations/{conference.people['alice'].id}/badge.pdf")
    path = write(tmp_path, response.content)
    assert pages_of(path) == 1
    assert "Alice Archer" in text_of(path)


def test_the_badges_pdf_command_writes_a_sheet(db_url, conference, tmp_path):
    out = tmp_path / "badges.pdf"
    env = {"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": SECRET, "PORTAL_ENV": "test"}
    result = CliRunner().invoke(
        main, ["badges", "pdf", str(conference.event.id), "-o", str(out), "--layout", "a4-8"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "3 badges written" in result.output
    assert pages_of(out) == 1
    assert "Bob Baker" in text_of(out)
    by_slug = CliRunner().invoke(
        main, ["badges", "pdf", conference.event.slug, "-o", str(out), "--status", "all"], env=env
    )
    assert "5 badges written" in by_slug.output
    missing = CliRunner().invoke(main, ["badges", "pdf", "no-such-event", "-o", str(out)], env=env)
    assert missing.exit_code != 0


LONG_TITLE = "ISIPT Conference 2027: Interpersonal Psychotherapy across the lifespan, from perinatal care to later life"


def words_of(path: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word pdftotext finds, with its box (xMin, yMin, xMax, yMax) in points."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
    )
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in found]


@pytest.mark.parametrize(("layout", "box_mm"), [("a6", 105.0), ("a4-8", 105.0)])
def test_a_long_event_title_is_wrapped_on_the_badge_never_cut_or_run_off(tmp_path, layout, box_mm):
    badge = pdf.Badge(
        name="Zoë Łukasiewicz-Brown",
        code=badges.issue(KEY, registration_id=1, event_id=3, serial=1),
        event=LONG_TITLE,
    )
    path = write(tmp_path, pdf.badges_pdf([badge], layout=layout))
    words = words_of(path)
    text = " ".join(w for w, *_ in words)
    assert LONG_TITLE in text  # every word, in order: nothing cut
    right_edge = box_mm / 25.4 * 72 - 5 / 25.4 * 72  # the badge's inner margin
    title = [w for w in words if w[0] in LONG_TITLE.split()]
    assert all(x_max <= right_edge + 0.5 for _, _, _, x_max, _ in title)
    assert len({round(y_min) for _, _, y_min, _, _ in title}) >= 2  # wrapped onto more lines
    name_top = min(y_min for w, _, y_min, _, _ in words if w == "Zoë")
    assert all(y_max <= name_top for _, _, _, _, y_max in title)  # above the name, not over it
