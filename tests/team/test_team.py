"""Meet the Team: the committees a fresh install has, staff adding people with posts, biographies and photos
(re-encoded, nothing of the upload kept), ordering and removing them, and who may do so. Both engines."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from support import csrf_token, login, make_account, post

from portal.audit import AuditEvent
from portal.team.models import Committee, TeamMember


@pytest.fixture
def office_client(client, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Owen Office")
    login(client, "office@example.org")
    return client


def _png_with_exif() -> bytes:
    image = Image.new("RGB", (1200, 900), (30, 120, 140))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


def _committee(database, slug="executive-committee") -> Committee:
    with database.session() as s:
        return s.scalar(select(Committee).where(Committee.slug == slug))


def _people(database, committee_id) -> list[TeamMember]:
    with database.session() as s:
        return list(
            s.scalars(
                select(TeamMember)
                .where(TeamMember.committee_id == committee_id)
                .order_by(TeamMember.position)
            )
        )


def _add(client, committee_id, name, post_="", photo: bytes | None = None):
    files = {"photo": ("me.png", photo, "image/png")} if photo is not None else None
    return client.post(
        f"/team/manage/{committee_id}/people",
        data={
            "csrf_token": csrf_token(client),
            "name": name,
            "post": post_,
            "bio": f"{name} is a **therapist**.",
        },
        files=files,
    )


def test_a_fresh_install_has_the_three_committees_of_the_site(client, admin, database, db_url, monkeypatch):
    """`portal db upgrade` makes them, once: run again, it changes nothing."""
    from click.testing import CliRunner

    from portal.cli import main

    with database.session() as s:
        for c in s.scalars(select(Committee)):
            s.delete(c)
    monkeypatch.setenv("PORTAL_DATABASE_URL", db_url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "x" * 40)
    for _ in range(2):
        done = CliRunner().invoke(main, ["db", "upgrade"])
        assert done.exit_code == 0, done.output
    with database.session() as s:
        names = list(s.scalars(select(Committee.name).order_by(Committee.position)))
    assert names == ["Executive Committee", "Training Committee", "Admin Team"]
    page = client.get("/team")
    assert page.status_code == 200
    for name in names:
        assert name in page.text
    assert client.get("/team/training-committee").status_code == 200
    assert client.get("/team/no-such-committee").status_code == 404


def test_the_office_adds_a_person_with_a_photo_that_is_re_encoded(office_client, client, database):
    executive = _committee(database)
    response = _add(office_client, executive.id, "Rhiannon Ellis", "Chair", photo=_png_with_exif())
    assert response.status_code == 303
    [person] = _people(database, executive.id)
    assert (person.name, person.post, person.has_photo) == ("Rhiannon Ellis", "Chair", True)
    client.cookies.clear()
    page = client.get("/team/executive-committee")
    assert "Rhiannon Ellis" in page.text and "Chair" in page.text
    assert "<strong>therapist</strong>" in page.text  # the biography's Markdown, rendered
    photo = client.get(f"/team/photos/{person.id}.jpg")
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.format == "JPEG" and max(stored.size) <= 800
    assert b"SecretCam" not in photo.content
    with database.session() as s:
        assert "team.person_add" in list(s.scalars(select(AuditEvent.action)))


def test_a_file_that_is_not_a_photo_is_refused_beside_the_field_and_nothing_is_added(office_client, database):
    executive = _committee(database)
    response = _add(office_client, executive.id, "Sam Smith", photo=b"%PDF-1.4 not a photo")
    assert response.status_code == 422
    assert "The photo is a PDF file. Upload a JPEG or PNG photo." in response.text
    assert 'value="Sam Smith"' in response.text  # what was typed is kept
    assert _people(database, executive.id) == []


def test_the_office_orders_edits_and_removes_people_after_a_confirmation(office_client, database):
    executive = _committee(database)
    for name in ("Ann", "Ben", "Cat"):
        _add(office_client, executive.id, name)
    ann, ben, cat = _people(database, executive.id)
    assert post(office_client, f"/team/manage/people/{cat.id}/move", {"direction": "up"}).status_code == 303
    assert [p.name for p in _people(database, executive.id)] == ["Ann", "Cat", "Ben"]
    edited = post(
        office_client, f"/team/manage/people/{ben.id}", {"name": "Ben Jones", "post": "Treasurer", "bio": ""}
    )
    assert edited.status_code == 303
    confirm = office_client.get(f"/team/manage/people/{ann.id}/remove")
    assert confirm.status_code == 200 and "Remove Ann from Executive Committee?" in confirm.text
    assert [p.name for p in _people(database, executive.id)] == ["Ann", "Cat", "Ben Jones"]  # not yet
    assert post(office_client, f"/team/manage/people/{ann.id}/remove", {"confirm": "yes"}).status_code == 303
    assert [(p.name, p.post) for p in _people(database, executive.id)] == [
        ("Cat", ""),
        ("Ben Jones", "Treasurer"),
    ]


def test_a_committee_address_must_be_free_and_plain(office_client, database):
    taken = post(office_client, "/team/manage", {"committee_name": "Research", "slug": "admin-team"})
    assert taken.status_code == 422 and "Another committee has that address already." in taken.text
    reserved = post(office_client, "/team/manage", {"committee_name": "Research", "slug": "manage"})
    assert reserved.status_code == 422 and "is used by the portal" in reserved.text
    bad = post(office_client, "/team/manage", {"committee_name": "Research", "slug": "Research Group!"})
    assert bad.status_code == 422 and "lower-case letters" in bad.text
    made = post(office_client, "/team/manage", {"committee_name": "Research Group", "slug": "research-group"})
    assert made.status_code == 303
    assert office_client.get("/team/research-group").status_code == 200


def test_visitors_and_members_cannot_edit_the_team(client, admin, database):
    executive = _committee(database)
    for path in ("/team/manage", f"/team/manage/{executive.id}"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = client.post(
        f"/team/manage/{executive.id}/people", data={"csrf_token": csrf_token(client), "name": "Mallory"}
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert _people(database, executive.id) == []
