"""Where the templates are: e-mails in `templates/emails/<domain>/`, the outbox's staff pages in `templates/mail/`
(a page folder like any domain's), so neither folder holds the other's kind."""

from __future__ import annotations

import re
from pathlib import Path

from portal.mail import service

ROOT = Path(__file__).resolve().parents[2]
ENQUEUED = re.compile(r'template="([a-z_]+/[a-z_]+)"')


def test_every_email_the_portal_enqueues_has_its_text_template_in_templates_emails():
    names = {name for path in (ROOT / "portal").rglob("*.py") for name in ENQUEUED.findall(path.read_text())}
    assert len(names) > 15
    assert service.EMAIL_TEMPLATES == ROOT / "templates" / "emails"
    missing = sorted(name for name in names if not (service.EMAIL_TEMPLATES / f"{name}.txt").is_file())
    assert missing == []


def test_templates_mail_holds_the_outbox_pages_and_no_email():
    found = {
        p.relative_to(ROOT / "templates" / "mail").as_posix()
        for p in (ROOT / "templates" / "mail").rglob("*")
    }
    assert found == {"outbox.html", "email.html", "_rows.html", "_status.html"}
