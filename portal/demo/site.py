"""The website: the captured menu's pages written by the website editor a few days after the portal is set up,
the National Meeting's menu entry pointed at this year's meeting once it is announced, and a fee change last
month (so a page has a history to read)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.demo.events import EventSteps
from portal.demo.site_text import FEES_UPDATE, PAGES
from portal.demo.timeline import london
from portal.site import seed
from portal.site import service as site
from portal.site.models import Page

NATIONAL_MEETING = "training-events/ipt-uk-national-meeting"


class SiteSteps(EventSteps):
    def plan_site(self) -> None:
        self.at(self.origin + timedelta(days=3), self.write_site)
        self.at(london(self.today - timedelta(days=45), 11), self.link_national_meeting)
        self.at(london(self.today - timedelta(days=30), 15), self.update_fees)

    def _save(self, page: Page, t: datetime, **changes: str) -> None:
        values: dict[str, Any] = {
            "title": page.title,
            "slug": page.slug,
            "parent_id": page.parent_id,
            "position": page.position,
            "summary": page.summary,
            "body": page.body,
            "link": page.link,
            "status": page.status,
            "in_menu": page.in_menu,
            **changes,
        }
        site.update_page(
            self.s,
            page_id=page.id,
            values=site.PageValues(**values),
            base_revision=page.revision,
            actor=self.staff["editor"],
            now=t,
            reserved=(),
        )

    def write_site(self, t: datetime) -> None:
        """The placeholders (as `portal db upgrade` places them), then every page's text."""
        seed.seed_site(self.s, now=t - timedelta(hours=1))
        for page in self.s.scalars(select(Page).order_by(Page.id)):
            if page.path in PAGES:
                summary, body = PAGES[page.path]
                self._save(page, t, summary=summary, body=body)

    def link_national_meeting(self, t: datetime) -> None:
        page = self.s.scalar(select(Page).where(Page.path == NATIONAL_MEETING))
        if page is not None and "meeting" in self.events:
            self._save(page, t, link=f"/events/{self.events['meeting'].event.slug}")

    def update_fees(self, t: datetime) -> None:
        path, old, new = FEES_UPDATE
        page = self.s.scalar(select(Page).where(Page.path == path))
        if page is not None and old in page.body:
            self._save(page, t, body=page.body.replace(old, new))
