"""The register's pages: search, an entry with its conditions and last-updated date, the case link for the
complaints role only, removal notices, verify and its badge, and the staff pages (status after a complaint, the
CSV, the accreditations ending soon)."""

from __future__ import annotations

from datetime import timedelta

from support import login, post

from portal.complaints.models import Complaint
from portal.register import service
from tests.register.conftest import TODAY


def _case(database, clock) -> int:
    with database.session() as s:
        found = Complaint(
            reference="C-2026-0012", year=2026, number=12, about="member", subject_name="Megan Hughes",
            complainant_name="Cal", complainant_email="cal@example.org", what_happened="x", happened_when="May",
            outcome_sought="y", stage="outcome", received_at=clock(), acknowledge_by=TODAY, outcome_by=TODAY,
            updated_at=clock(),
        )  # fmt: skip
        s.add(found)
        s.flush()
        return found.id


def test_the_register_searches_by_name_and_number_and_htmx_gets_the_results_alone(client, registrant):
    megan = registrant("Megan", "Hughes")
    registrant("Owen", "Price")
    page = client.get("/register", params={"q": "hughes"})
    assert page.status_code == 200 and "Megan Hughes" in page.text and "Owen Price" not in page.text
    assert "1 practitioner found" in page.text and "IPT practitioner, 26 October 2026 to" in page.text
    assert "Last updated 25 November 2026" in page.text
    fragment = client.get("/register", params={"q": megan.number}, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="register-results"') and "Megan Hughes" in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    none = client.get("/register", params={"q": "nobody"})
    assert "Nobody on the register matches your search." in none.text


def test_an_entry_shows_its_conditions_status_and_last_updated_date(client, registrant):
    r = registrant(conditions="Works only under fortnightly supervision.")
    page = client.get(f"/register/{r.number}")
    assert "Registered with conditions" in page.text
    assert "IPT practitioner: Works only under fortnightly supervision." in page.text
    assert "Last updated</dt><dd>25 November 2026" in page.text
    # The snippet a therapist copies onto their own site: a link to the verify page around the badge.
    assert (
        f'&lt;a href="http://testserver/register/verify/{r.number}"&gt;&lt;img src="http://testserver/register/verify/{r.number}/badge.svg"'
        in page.text
    )


def test_someone_not_on_the_register_has_no_entry(client, registrant, clock):
    r = registrant(until_on=TODAY)
    clock.advance(days=1)
    assert client.get(f"/register/{r.number}").status_code == 404
    assert client.get("/register/99999").status_code == 404
    verify = client.get(f"/register/verify/{r.number}")
    assert verify.status_code == 200 and f"Nobody with registration number {r.number}" in verify.text
    assert "Not on the register" in client.get(f"/register/verify/{r.number}/badge.svg").text


def test_verify_and_its_badge_say_today_s_status(client, registrant):
    r = registrant()
    verify = client.get(f"/register/verify/{r.number}")
    assert "Megan Hughes</strong>, registration number" in verify.text and "Registered" in verify.text
    badge = client.get(f"/register/verify/{r.number}/badge.svg")
    assert badge.headers["content-type"].startswith("image/svg+xml")
    assert badge.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "max-age=3600" in badge.headers["cache-control"]
    assert "Megan Hughes · Registered" in badge.text and "<script" not in badge.text


def test_a_suspension_after_a_complaint_shows_and_only_handlers_see_the_case_link(
    client, database, clock, registrant, staff
):
    r = registrant()
    case_id = _case(database, clock)
    login(client, staff("accreditation"))
    response = post(
        client,
        f"/register/manage/{r.member_id}",
        {
            "status": "suspended",
            "wording": "Suspended while a complaint is investigated.",
            "case": "c-2026-0012",
        },
    )
    assert response.status_code == 303, response.text
    page = client.get(f"/register/{r.number}")
    assert "Suspended while a complaint is investigated." in page.text
    assert f"/complaints/cases/{case_id}" not in page.text
    client.cookies.clear()
    anonymous = client.get(f"/register/{r.number}")
    assert "Suspended" in anonymous.text and f"/complaints/cases/{case_id}" not in anonymous.text
    login(client, staff("complaints"))
    assert f"/complaints/cases/{case_id}" in client.get(f"/register/{r.number}").text


def test_the_status_form_says_what_is_wrong_beside_the_field(client, database, clock, registrant, staff):
    r = registrant()
    login(client, staff("complaints"))
    empty = post(client, f"/register/manage/{r.member_id}", {"status": "removed", "wording": ""})
    assert empty.status_code == 422 and 'id="f-wording-error"' in empty.text
    bad_case = post(
        client, f"/register/manage/{r.member_id}", {"status": "removed", "wording": "x", "case": "C-1"}
    )
    assert bad_case.status_code == 422 and 'id="f-case-error"' in bad_case.text
    with database.session(write=False) as s:
        assert service.status_of(s, r.member_id) is None


def test_staff_find_a_registrant_by_number(client, registrant, staff):
    r = registrant()
    login(client, staff("complaints"))
    found = client.get("/register/manage", params={"number": r.number})
    assert found.status_code == 303 and found.headers["location"] == f"/register/manage/{r.member_id}"
    missing = client.get("/register/manage", params={"number": "nope"})
    assert missing.status_code == 422 and "no member with this membership number" in missing.text


def test_removal_notices_are_public(client, database, clock, registrant, admin):
    r = registrant("Rhys", "Removed")
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="removed", wording="Removed after a finding of misconduct.",
            complaint_id=None, actor=admin, now=clock(),
        )  # fmt: skip
    page = client.get("/register/removals")
    assert "Rhys Removed" in page.text and "Removed after a finding of misconduct." in page.text
    entry = client.get(f"/register/{r.number}").text
    assert "Removed from the register" in entry and "Verify this practitioner" not in entry
    # Still holding a level, but verify and the badge say what the register decided.
    assert f"Nobody with registration number {r.number}" in client.get(f"/register/verify/{r.number}").text
    assert "Not on the register" in client.get(f"/register/verify/{r.number}/badge.svg").text


def test_the_regulator_s_csv_is_for_staff_and_is_an_attachment(client, registrant, staff):
    registrant()
    assert client.get("/register/export.csv").status_code in (303, 401)
    login(client, staff("accreditation"))
    response = client.get("/register/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="register-2026-11-25.csv"'
    )
    assert "Megan Hughes" in response.content.decode("utf-8-sig")
    assert "therapists.example" not in response.text


def test_the_staff_page_lists_the_accreditations_ending_in_90_days(client, registrant, staff):
    registrant("Sam", "Soon", until_on=TODAY + timedelta(days=40))
    registrant("Lee", "Later", until_on=TODAY + timedelta(days=120))
    login(client, staff("accreditation"))
    page = client.get("/register/expiring")
    assert "Sam Soon" in page.text and "Lee Later" not in page.text and "<td>40</td>" in page.text


def test_the_staff_menu_and_the_public_menu_lead_to_the_register(client, registrant, staff):
    login(client, staff("complaints"))
    assert 'href="/register/manage"' in client.get("/").text


def test_a_lapsed_person_is_absent_from_search_csv_and_directory_and_a_suspended_one_is_marked(
    client, database, clock, registrant, staff, admin
):
    from portal.register import directory

    lapsed = registrant("Lara", "Lapsed", renewal_on=TODAY - timedelta(days=31))
    suspended = registrant("Sue", "Suspended")
    for r in (lapsed, suspended):
        with database.session() as s:
            directory.save_profile(
                s, member_id=r.member_id, photo=None, remove_photo=False, actor=None, now=clock() - timedelta(days=60),
                data=directory.ProfileData(published=False, towns=("York",), region="yorkshire"),
            )  # fmt: skip
            s.get(directory.PracticeProfile, directory.profile_of(s, r.member_id).id).published = True
    with database.session() as s:
        service.set_status(
            s, member_id=suspended.member_id, status="suspended", wording="Suspended.", complaint_id=None,
            actor=admin, now=clock(),
        )  # fmt: skip
    assert "Lara Lapsed" not in client.get("/register", params={"q": "lara"}).text
    assert "Lara Lapsed" not in client.get("/register", params={"region": "yorkshire"}).text
    assert client.get(f"/register/{lapsed.number}").status_code == 404
    assert client.get(f"/find-a-therapist/{lapsed.number}").status_code == 404
    assert client.get(f"/find-a-therapist/{suspended.number}").status_code == 404
    listing = client.get("/find-a-therapist", params={"region": "yorkshire"}).text
    assert "Lara Lapsed" not in listing and "Sue Suspended" not in listing
    marked = client.get("/register", params={"q": "sue"}).text
    assert "Sue Suspended" in marked and "Suspended</span>" in marked
    login(client, staff("complaints"))
    exported = client.get("/register/export.csv").content.decode("utf-8-sig")
    assert "Lara Lapsed" not in exported and "Sue Suspended,Suspended" in exported


def test_staff_wording_with_html_is_shown_as_text(client, database, clock, registrant, admin):
    r = registrant()
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="removed", wording="<script>alert('x')</script> Removed.",
            complaint_id=None, actor=admin, now=clock(),
        )  # fmt: skip
    for url in (f"/register/{r.number}", "/register/removals", "/register"):
        text = client.get(url).text
        assert "<script>alert" not in text, url
    assert "&lt;script&gt;" in client.get("/register/removals").text


def test_the_member_s_staff_page_shows_their_place_on_the_register_to_those_who_set_it(
    client, registrant, staff, admin
):
    r = registrant()
    login(client, "admin@example.org")
    page = client.get(f"/members/{r.member_id}")
    assert page.status_code == 200 and "On the register today" in page.text
    assert f"/register/manage/{r.member_id}" in page.text
