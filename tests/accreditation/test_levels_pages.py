"""The levels over HTTP: the public Accreditation Standards page drawn from them (and the menu's entry that leads
to it), the accreditation role's forms and their messages beside the fields. Both engines."""

from __future__ import annotations

from sqlalchemy import select
from support import post

from portal.accreditation.models import Level


def _form(**values):
    base = {"name": "Group IPT practitioner", "slug": "group-ipt", "course_id": "", "supervised_cases": "3",
            "supervision_hours": "12", "sign_off_required": "on", "cpd_hours": "10", "duration_months": "30",
            "description": "IPT **in groups**.", "position": ""}  # fmt: skip
    base.update(values)
    return base


def test_the_standards_page_shows_every_level_with_its_standard(client, levels):
    page = client.get("/accreditation/standards")
    assert page.status_code == 200
    for name in ("IPT practitioner", "IPT-A practitioner", "IPC practitioner", "Supervisor", "Trainer"):
        assert f">{name}</h2>" in page.text
    assert 'href="http://testserver/training/ipt-practitioner"' in page.text
    assert "3 years" in page.text and "Edit the levels" not in page.text


def test_the_menus_accreditation_standards_entry_leads_to_the_generated_page(client, database, clock, levels):
    from portal.site.seed import seed_site

    with database.session() as s:
        seed_site(s, now=clock())
    home = client.get("/")
    assert (
        'href="http://testserver/accreditation/standards"' in home.text
        or 'href="/accreditation/standards"' in (home.text)
    )


def test_the_officer_adds_a_level_that_the_public_page_then_shows(officer_client, database, levels):
    page = officer_client.get("/accreditation/manage")
    assert page.status_code == 200 and "Add a level" in page.text
    response = post(officer_client, "/accreditation/manage/levels/new", _form(course_id="999"))
    assert response.status_code == 422 and 'id="f-course_id-error"' in response.text
    response = post(officer_client, "/accreditation/manage/levels/new", _form())
    assert response.status_code == 303
    with database.session() as s:
        level = s.scalar(select(Level).where(Level.slug == "group-ipt"))
        assert level.duration_months == 30 and level.sign_off_required and level.updated_by == "Avi Officer"
    public = officer_client.get("/accreditation/standards")
    assert ">Group IPT practitioner</h2>" in public.text and "30 months" in public.text
    assert "<strong>in groups</strong>" in public.text and "Edit the levels" in public.text


def test_bad_numbers_come_back_with_their_messages_beside_the_fields(officer_client, levels):
    response = post(
        officer_client,
        f"/accreditation/manage/levels/{levels['supervisor']}",
        _form(supervised_cases="many", duration_months="0", slug="Bad Slug", name=""),
    )
    assert response.status_code == 422
    text = response.text
    assert 'id="f-supervised_cases-error"' in text and "supervised cases as a whole number" in text
    assert 'id="f-duration_months-error"' in text and "from 1 to" in text
    assert 'id="f-name-error"' in text


def test_a_taken_short_name_is_told_beside_the_field(officer_client, levels):
    response = post(
        officer_client, f"/accreditation/manage/levels/{levels['trainer']}", _form(slug="supervisor")
    )
    assert response.status_code == 422
    assert 'id="f-slug-error"' in response.text and "already has this short name" in response.text


def test_editing_keeps_the_level_and_changes_its_standard(officer_client, database, levels):
    page = officer_client.get(f"/accreditation/manage/levels/{levels['trainer']}")
    assert page.status_code == 200 and 'value="trainer"' in page.text
    response = post(
        officer_client,
        f"/accreditation/manage/levels/{levels['trainer']}",
        _form(name="Trainer", slug="trainer", cpd_hours="25", sign_off_required=""),
    )
    assert response.status_code == 303
    with database.session() as s:
        level = s.get(Level, levels["trainer"])
        assert level.cpd_hours == 25 and not level.sign_off_required
