"""The website: the captured menu's pages written by the website editor a few days after the portal is set up,
the National Meeting's menu entry pointed at this year's meeting once it is announced, and a change to the
accreditation standards last month (so a page has a history to read); the office sets the categories' fees and
terms, which the Membership Options page is drawn from; the news posts of the past months (one still a draft),
and two regional meetings coming up with places left (so the home page has events to offer besides the
conference)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.demo.events import EventSteps
from portal.demo.site_text import CATEGORY_TERMS, HISTORY_EDIT, NEWS, PAGES
from portal.demo.timeline import london, next_weekday
from portal.events import catalogue
from portal.members import service as members
from portal.members.models import MemberCategory
from portal.site import news, seed
from portal.site import service as site
from portal.site.models import Page

NATIONAL_MEETING = "training-events/ipt-uk-national-meeting"


class SiteSteps(EventSteps):
    def plan_site(self) -> None:
        self.at(self.origin + timedelta(days=3), self.write_site)
        self.at(london(self.today - timedelta(days=45), 11), self.link_national_meeting)
        self.at(self.origin + timedelta(days=3, hours=1), self.set_membership_terms)
        self.at(london(self.today - timedelta(days=30), 15), self.update_about_page)
        for days_ago, title, slug, summary, body, status in NEWS:
            self.at(
                london(self.today - timedelta(days=days_ago), 10),
                self.post_news,
                title,
                slug,
                summary,
                body,
                status,
            )
        self.plan_regional_meetings()

    def post_news(self, title: str, slug: str, summary: str, body: str, status: str, t: datetime) -> None:
        news.create_post(
            self.s,
            values=news.PostValues(title=title, slug=slug, summary=summary, body=body, status=status),
            actor=self.staff["editor"],
            now=t,
        )

    def plan_regional_meetings(self) -> None:
        """Two regional groups' next meetings, free and open to members and non-members alike."""
        for name, title, region, venue, address, weeks in (
            ("regional_nw", "North West regional IPT group", "north-west", "The Friends Meeting House",
             "6 Mount Street, Manchester M2 5NS", 3),
            ("regional_sw", "South West regional IPT group", "south-west", "Bristol Central Library",
             "College Green, Bristol BS1 5TL", 6),
        ):  # fmt: skip
            starts = london(next_weekday(self.today + timedelta(weeks=weeks), 2), 14)
            self.set_up_event(
                name,
                london(self.today - timedelta(days=20), 11),
                catalogue.EventData(
                    title=title,
                    slug=f"{name.replace('_', '-')}-{starts.date().isoformat()}",
                    kind="regional",
                    region=region,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2, minutes=30),
                    registration_opens_at=london(self.today - timedelta(days=19), 9),
                    registration_closes_at=starts - timedelta(days=1),
                    venue=venue,
                    address=address,
                    description=(
                        "An afternoon for practitioners of the region: a short talk, then case discussion in "
                        "small groups. Free, and open to members and non-members alike."
                    ),
                    capacity=30,
                    contact_email="office@example.org",
                    status="published",
                ),
                tickets=[catalogue.TicketData("Place", price=0)],
                questions=[],
            )

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
            "kind": page.kind,
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

    def update_about_page(self, t: datetime) -> None:
        path, old, new = HISTORY_EDIT
        page = self.s.scalar(select(Page).where(Page.path == path))
        if page is not None and old in page.body:
            self._save(page, t, body=page.body.replace(old, new))
