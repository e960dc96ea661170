"""The website: the captured menu's pages written by the website editor a few days after the portal is set up,
the National Meeting's menu entry pointed at this year's meeting once it is announced, and a change to the
accreditation standards last month (so a page has a history to read); the office sets the categories' fees and
terms, which the Membership Options page is drawn from."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.demo.events import EventSteps
from portal.demo.site_text import CATEGORY_TERMS, PAGES, STANDARDS_UPDATE
from portal.demo.timeline import london
from portal.members import service as members
from portal.members.models import MemberCategory
from portal.site import seed
from portal.site import service as site
from portal.site.models import Page

NATIONAL_MEETING = "training-events/ipt-uk-national-meeting"


class SiteSteps(EventSteps):
    def plan_site(self) -> None:
        self.at(self.origin + timedelta(days=3), self.write_site)
        self.at(london(self.today - timedelta(days=45), 11), self.link_national_meeting)
        self.at(self.origin + timedelta(days=3, hours=1), self.set_membership_terms)
        self.at(london(self.today - timedelta(days=30), 15), self.update_standards)

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

    def set_membership_terms(self, t: datetime) -> None:
        """The office gives each category its fee and terms: the Membership Options page shows them."""
        for category in self.s.scalars(select(MemberCategory)):
            if category.code not in CATEGORY_TERMS:
                continue
            fee, eligibility, evidence, upload = CATEGORY_TERMS[category.code]
            members.update_category_terms(
                self.s,
                option_id=category.id,
                terms=replace(
                    members.terms_of(category),
                    annual_fee=fee,
                    eligibility=eligibility,
                    evidence=evidence,
                    evidence_upload=upload,
                ),
                actor=self.staff["office"],
                now=t,
            )

    def update_standards(self, t: datetime) -> None:
        path, old, new = STANDARDS_UPDATE
        page = self.s.scalar(select(Page).where(Page.path == path))
        if page is not None and old in page.body:
            self._save(page, t, body=page.body.replace(old, new))
