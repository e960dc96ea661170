"""Question-and-answer pages: how the text is split into questions, each question's anchor, and the page a
visitor reads (a list of the questions, a heading per question with its "link to this question")."""

from __future__ import annotations

import re

import pytest
from support import login, make_account, post

from portal.site import faq, seed
from portal.site.models import Page

TEXT = """Read these before you write to the office.

## How do I renew?

Log in and open **My account**.

### Can I pay by bank transfer?

Yes.

```
## not a question (in a code block)
```

## How do I renew?

Asked twice, answered twice.
"""


def test_each_heading_line_is_a_question_and_what_follows_its_answer():
    found = faq.parse(TEXT)
    assert found.introduction == "Read these before you write to the office."
    assert [q.question for q in found.questions] == [
        "How do I renew?",
        "Can I pay by bank transfer?",
        "How do I renew?",
    ]
    assert found.questions[0].answer == "Log in and open **My account**."
    assert "not a question" in found.questions[1].answer


def test_anchors_come_from_the_question_and_never_repeat():
    anchors = [q.anchor for q in faq.parse(TEXT).questions]
    assert anchors == ["how-do-i-renew", "can-i-pay-by-bank-transfer", "how-do-i-renew-2"]
    # An id the page already uses is never taken by a question.
    assert faq.parse("## Main").questions[0].anchor == "main-2"
    assert faq.parse("## ???").questions[0].anchor == "question"


def test_a_text_without_questions_is_all_introduction():
    found = faq.parse("Just words.\n\n# A top heading is not a question")
    assert found.questions == [] and "Just words." in found.introduction


@pytest.fixture
def site(database, admin, clock):
    with database.session() as s:
        seed.seed_site(s, now=clock())


def test_the_fresh_install_s_faq_pages_are_question_and_answer_pages(database, site):
    with database.session(write=False) as s:
        kinds = {p.path: p.kind for p in s.query(Page).filter(Page.path.like("members-area/%"))}
    assert kinds["members-area/membership-faqs"] == kinds["members-area/training-faqs"] == "faq"
    assert kinds["members-area/members-login"] == "page"


def test_a_visitor_reads_each_question_under_its_own_anchor(client, database, site):
    with database.session() as s:
        found = s.query(Page).filter_by(path="members-area/membership-faqs").one()
        found.body = TEXT
    page = client.get("/members-area/membership-faqs")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'<h2 id="how-do-i-renew" class="faq-question">How do I renew\?</h2>', html)
    assert '<h2 id="how-do-i-renew-2" class="faq-question">' in html
    assert '<a href="#can-i-pay-by-bank-transfer">Can I pay by bank transfer?</a>' in html
    assert html.count(">Link to this question<") == 3
    assert (
        '<a href="#how-do-i-renew">Link to this question<span class="visually-hidden">: How do I renew?'
        in html
    )
    assert "<strong>My account</strong>" in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id on the page is unique"


def test_an_editor_makes_a_page_a_question_and_answer_page(client, database, passwords, site):
    make_account(database, passwords, email="editor@example.org", roles="editor", name="Eddie Editor")
    with database.session(write=False) as s:
        found = s.query(Page).filter_by(path="about-ipt/ipt-research").one()
        page_id, revision = found.id, found.revision
    login(client, "editor@example.org")
    form = {"title": "IPT Research", "slug": "ipt-research", "parent_id": str(found.parent_id), "position": "",
            "summary": "", "body": "## Is IPT evidence-based?\n\nYes.", "link": "", "status": "published",
            "in_menu": "on", "kind": "faq", "base_revision": str(revision)}  # fmt: skip
    preview = post(client, f"/site/pages/{page_id}", {**form, "action": "preview"})
    assert '<h2 id="is-ipt-evidence-based" class="faq-question">' in preview.text
    assert post(client, f"/site/pages/{page_id}", {**form, "action": "save"}).status_code == 303
    shown = client.get("/about-ipt/ipt-research")
    assert 'id="is-ipt-evidence-based"' in shown.text
    bad = post(client, f"/site/pages/{page_id}", {**form, "kind": "poem", "action": "save"})
    assert bad.status_code == 422
