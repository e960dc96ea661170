"""The website over HTTP: who may edit pages, the published pages at their addresses, the menu and the footer,
and attachments' limits and headers."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from support import csrf_token, login, make_account, post

from portal.site import seed
from portal.site.models import Attachment, Page
from portal.society.models import Society


@pytest.fixture
def site(database, admin, clock):
    """The fresh install's site (the captured menu), as `portal db upgrade` places it."""
    with database.session() as s:
        seed.seed_site(s, now=clock())


@pytest.fixture
def editor(database, passwords, admin):
    return make_account(database, passwords, email="editor@example.org", roles="editor", name="Eddie Editor")


def _page_id(database, path):
    with database.session(write=False) as s:
        return s.query(Page).filter_by(path=path).one().id


def _form(**values):
    base = {"title": "", "slug": "", "parent_id": "", "position": "", "summary": "", "body": "", "link": "",
            "status": "published", "in_menu": "on", "action": "save"}  # fmt: skip
    base.update(values)
    return base


def test_visitors_walk_the_menu_to_a_published_page_with_breadcrumbs(client, site):
    home = client.get("/")
    assert home.status_code == 200
    assert 'aria-label="Site"' in home.text and 'aria-controls="site-sub-' in home.text
    assert 'aria-expanded="false"' in home.text
    assert 'href="/about-ipt/mission-vision"' in home.text
    # The menu's links to the portal's own pages.
    assert 'href="/events"' in home.text and 'href="/events?kind=meeting"' in home.text
    assert 'href="/login"' in home.text and 'href="/elections/archive"' in home.text
    inner = client.get("/about-ipt/mission-vision")
    assert inner.status_code == 200
    crumbs = inner.text.split('aria-label="Breadcrumb"', 1)[1].split("</nav>", 1)[0]
    assert (
        'href="/about-ipt">About IPT</a>' in crumbs and 'aria-current="page">Mission &amp; Vision' in crumbs
    )
    assert re.search(
        r'<a href="/about-ipt/mission-vision" aria-current="page">Mission &amp; Vision</a>', inner.text
    )
    assert "waiting for its text" in inner.text
    # A section page lists what is under it, so every page is reachable without the menu's script.
    section = client.get("/about-ipt")
    assert 'href="/about-ipt/policies"' in section.text
    # Meet the Team and its committees are the team room's pages.
    assert 'href="/team"' in section.text and 'href="/team/executive-committee"' in home.text
    assert client.get("/about-ipt/mission-vision/").headers["location"] == "/about-ipt/mission-vision"
    assert client.get("/home").status_code in (301, 404)
    assert client.get("/no-such-page").status_code == 404


def test_the_catch_all_hides_none_of_the_portal_s_own_pages(client, site):
    assert client.get("/events").status_code == 200
    assert "Log in" in client.get("/login").text
    assert client.get("/healthz").json()["status"] == "ok"
    # A mounted room's index without its slash goes to it, as Starlette's own redirect would (the catch-all is
    # reached first), keeping the query; an address no route serves is still the site's 404.
    for bare in ("/elections", "/members"):
        moved = client.get(bare + "?q=x")
        assert (moved.status_code, moved.headers["location"]) == (307, bare + "/?q=x")
    assert client.get("/no-such-page").status_code == 404


def test_the_footer_has_the_society_s_standing_and_its_pages(client, database, site):
    with database.session() as s:
        society = s.get(Society, 1)
        society.company_number = "09723196"
        society.registered_address = "IPT UK, 124 City Road, London, EC1V 2NX"
        society.contact_email = "office@example.org"
    text = client.get("/").text
    footer = text.split('<footer class="site-footer">', 1)[1]
    assert "company number 09723196" in footer and "Registered address: IPT UK, 124 City Road" in footer
    # Contact Us is the contact room's form; the others are pages.
    for path in ("/contact", "/cookies", "/terms", "/privacy-notice", "/accessibility"):
        assert f'href="{path}"' in footer
        assert client.get(path).status_code == 200
    assert 'href="mailto:office@example.org"' in footer
    # Footer pages are not in the header menu.
    assert 'href="/cookies"' not in text.split('aria-label="Site"', 1)[1].split("</nav>", 1)[0]


def test_an_editor_creates_edits_previews_and_restores_a_page(client, database, site, editor):
    login(client, "editor@example.org")
    assert client.get("/site/pages").status_code == 200
    about = _page_id(database, "about-ipt")
    made = post(
        client,
        "/site/pages/new",
        _form(title="Our Values", parent_id=str(about), body="We value *care*.", status="draft"),
    )
    assert made.status_code == 303, made.text
    page_id = _page_id(database, "about-ipt/our-values")
    assert made.headers["location"] == f"/site/pages/{page_id}"
    # A draft: the editor sees it with a banner, a visitor does not.
    assert "This page is a draft" in client.get("/about-ipt/our-values").text
    with client.__class__(client.app, base_url="http://testserver") as visitor:
        assert visitor.get("/about-ipt/our-values").status_code == 404
        assert "Our Values" not in visitor.get("/").text
    preview = post(client, f"/site/pages/{page_id}", _form(title="Our Values", slug="our-values", parent_id=str(about),
                   body="We value **honesty**.", action="preview", base_revision="1"))  # fmt: skip
    assert (
        preview.status_code == 200
        and "<strong>honesty</strong>" in preview.text
        and "Preview (not saved yet)" in preview.text
    )
    with database.session(write=False) as s:
        assert s.get(Page, page_id).revision == 1
    saved = post(client, f"/site/pages/{page_id}", _form(title="Our Values", slug="our-values", parent_id=str(about),
                 body="We value **honesty**.", base_revision="1"))  # fmt: skip
    assert saved.status_code == 303
    diff = client.get(f"/site/pages/{page_id}/history/2")
    assert "<del>We value *care*.</del>" in diff.text and "<ins>We value **honesty**.</ins>" in diff.text
    assert "Published" in diff.text  # the status changed too
    restored = post(client, f"/site/pages/{page_id}/history/1/restore")
    assert restored.status_code == 303
    history = client.get(f"/site/pages/{page_id}/history")
    assert "Restored version 1" in history.text and "Eddie Editor" in history.text
    with database.session(write=False) as s:
        page = s.get(Page, page_id)
        assert (page.revision, page.body, page.status) == (3, "We value *care*.", "draft")


def test_a_stale_save_and_a_reserved_address_come_back_with_the_reason(client, database, site, editor):
    login(client, "editor@example.org")
    page_id = _page_id(database, "about-ipt/mission-vision")
    parent = str(_page_id(database, "about-ipt"))
    stale = post(client, f"/site/pages/{page_id}", _form(title="Mission", slug="mission-vision", parent_id=parent,
                 body="mine", base_revision="0"))  # fmt: skip
    assert stale.status_code == 422 and "Someone else saved this page" in stale.text
    reserved = post(client, "/site/pages/new", _form(title="Events", slug="events"))
    assert (
        reserved.status_code == 422 and "would hide the portal&#39;s own pages under /events" in reserved.text
    )
    taken = post(client, "/site/pages/new", _form(title="Mission & Vision", parent_id=parent))
    assert taken.status_code == 422 and "Another page is already at /about-ipt/mission-vision" in taken.text


@pytest.mark.parametrize("roles", ["", "door", "returning_officer"])
def test_people_who_do_not_edit_the_website_cannot(client, database, passwords, site, roles):
    make_account(database, passwords, email="someone@example.org", roles=roles)
    login(client, "someone@example.org")
    page_id = _page_id(database, "about-ipt")
    for url in ("/site/pages", f"/site/pages/{page_id}", f"/site/pages/{page_id}/history"):
        assert client.get(url).status_code == 403
    assert post(client, f"/site/pages/{page_id}/delete").status_code == 403
    with database.session(write=False) as s:
        assert s.get(Page, page_id) is not None


def test_office_staff_edit_pages_and_an_unsafe_request_needs_its_token(client, database, passwords, site):
    make_account(database, passwords, email="office@example.org", roles="office")
    login(client, "office@example.org")
    page_id = _page_id(database, "cookies")
    assert client.get(f"/site/pages/{page_id}").status_code == 200
    refused = client.post(f"/site/pages/{page_id}/delete", data={})
    assert refused.status_code == 403
    assert post(client, f"/site/pages/{page_id}/delete").status_code == 303
    assert client.get("/cookies").status_code == 404


# --- attachments -----------------------------------------------------------------------------------------------


def _png(width=40, height=30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 90, 110)).save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _upload(client, page_id, name, data, mime="application/octet-stream"):
    return client.post(
        f"/site/pages/{page_id}/files",
        data={"csrf_token": csrf_token(client)},
        files={"file": (name, data, mime)},
    )


def test_an_image_and_a_pdf_are_served_with_their_own_headers(client, database, site, editor):
    login(client, "editor@example.org")
    page_id = _page_id(database, "about-ipt/policies")
    assert _upload(client, page_id, "Team photo (2024).png", _png()).status_code == 303
    assert _upload(client, page_id, "Safeguarding policy.pdf", PDF).status_code == 303
    with database.session(write=False) as s:
        image, pdf = s.query(Attachment).order_by(Attachment.id).all()
        assert (image.filename, pdf.filename) == ("Team-photo-2024.png", "Safeguarding-policy.pdf")
    with client.__class__(client.app, base_url="http://testserver") as visitor:
        shown = visitor.get(f"/site/files/{image.id}/{image.filename}")
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
        assert shown.headers["content-disposition"].startswith('inline; filename="Team-photo-2024.png"')
        assert shown.headers["x-content-type-options"] == "nosniff"
        assert shown.headers["cache-control"] == "public, max-age=3600"
        assert "sandbox" in shown.headers["content-security-policy"]
        assert Image.open(io.BytesIO(shown.content)).size == (40, 30)
        document = visitor.get(f"/site/files/{pdf.id}/{pdf.filename}")
        assert document.headers["content-type"] == "application/pdf"
        assert document.headers["content-disposition"].startswith("attachment;")
        assert document.content == PDF
        assert visitor.get(f"/site/files/{pdf.id}/other-name.pdf").status_code == 404
    removed = post(client, f"/site/files/{pdf.id}/remove")
    assert removed.status_code == 303
    assert client.get(f"/site/files/{pdf.id}/{pdf.filename}").status_code == 404


def test_a_draft_page_s_files_are_for_editors_only(client, database, site, editor):
    login(client, "editor@example.org")
    page_id = _page_id(database, "psa-website-projects/psa")
    with database.session() as s:
        s.get(Page, page_id).status = "draft"
    assert _upload(client, page_id, "plan.png", _png()).status_code == 303
    with database.session(write=False) as s:
        file = s.query(Attachment).one()
    mine = client.get(f"/site/files/{file.id}/{file.filename}")
    assert mine.status_code == 200 and mine.headers["cache-control"] == "private, no-store"
    with client.__class__(client.app, base_url="http://testserver") as visitor:
        assert visitor.get(f"/site/files/{file.id}/{file.filename}").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("anim.gif", b"GIF89a" + b"\0" * 40, "The file is a GIF"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not a JPEG or PNG image or a PDF"),
        ("doc.docx", b"PK\x03\x04" + b"\0" * 40, "a Word, Excel or zip file"),
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "damaged or cut short"),
        (
            "active.pdf",
            b"%PDF-1.4\n<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>\n%%EOF",
            "holds scripts",
        ),
        ("cut.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "cut short"),
        ("huge.pdf", b"%PDF-1.4\n" + b"0" * (8 * 1024 * 1024 + 10), "larger than 8 MB"),
    ],
)
def test_a_file_outside_the_limits_is_refused_with_the_reason(
    client, database, site, editor, name, data, message
):
    login(client, "editor@example.org")
    page_id = _page_id(database, "about-ipt/policies")
    refused = _upload(client, page_id, name, data)
    assert refused.status_code == 422
    assert message in refused.text.replace("&#39;", "'")
    with database.session(write=False) as s:
        assert s.query(Attachment).count() == 0


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(client, database, site, editor):
    login(client, "editor@example.org")
    page_id = _page_id(database, "about-ipt/policies")
    refused = _upload(client, page_id, "big.png", _png(6000, 5000))
    assert refused.status_code == 422 and "megapixels" in refused.text


def test_an_error_page_shows_the_menu_without_asking_the_database(client, site, app, monkeypatch):
    client.get("/")
    from portal.site import service as site_service

    def unreachable(*args, **kwargs):
        raise AssertionError("an error page read the tree again")

    monkeypatch.setattr(site_service, "tree", unreachable)
    refused = client.delete("/about-ipt")
    assert refused.status_code == 405
    assert 'aria-label="Site"' in refused.text and 'href="/about-ipt/mission-vision"' in refused.text


def test_the_menu_follows_a_save_made_by_another_worker(client, database, site, admin, clock):
    from portal.site import service as site_service

    assert ">About IPT</a>" in client.get("/").text
    with database.session() as s:  # another worker's transaction: this app's cached tree does not know of it
        page = s.query(Page).filter_by(path="about-ipt").one()
        site_service.update_page(
            s,
            page_id=page.id,
            values=site_service.PageValues(
                title="About Interpersonal Psychotherapy",
                slug="about-ipt",
                status="published",
                position=page.position,
            ),
            base_revision=page.revision,
            actor=admin,
            now=clock(),
            reserved=(),
        )
    text = client.get("/").text
    assert ">About Interpersonal Psychotherapy</a>" in text and ">About IPT</a>" not in text
