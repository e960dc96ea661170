"""Joining the society: an application, the office's questions and the applicant's answers, the decision, and
the first fee.

Plain functions over a Session that flush but never commit: each is one step of the journey, done whole in the
caller's one transaction with its audit entry and its e-mail in the outbox. A step that moves an application
from one status to another does it with one conditional UPDATE whose row count is checked, so two members of
staff deciding at once cannot both approve (or approve and reject). Audit entries name an application by its
reference and a member by number, never by name or address.

Who is on the roll is never shown to whoever fills in the form: an applicant whose address is already on the
roll (or who has an application open) gets the same page as anyone else, and the explanation (how to log in,
or that the application is being looked at) goes by e-mail to that address alone. The form is counted by the
outbox's throttle, so it cannot be used to flood a mailbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import rowcount
from portal.errors import Kind
from portal.events import cards, invoices
from portal.events.models import CardCheckout, Invoice, NumberSequence
from portal.mail import service as mail
from portal.members import selfservice
from portal.members import service as members
from portal.members.models import Member, MemberCategory
from portal.membership import ledger, periods
from portal.membership.errors import Code, MembershipError
from portal.membership.fees import BankTransferFees, FeeProvider, FeeRequest, pay_token
from portal.membership.links import Links
from portal.membership.models import (
    APPLICATION_STATUSES,
    REGISTRATION_BODIES,
    TRAINING,
    Application,
    ApplicationFile,
    ApplicationMessage,
)
from portal.site.files import Evidence
from portal.society.service import membership_settings, society_name
from portal.web.tokens import new_token, token_digest

log = logging.getLogger("portal.membership")

LONDON = ZoneInfo("Europe/London")
MEMBERSHIP_SEQUENCE = "membership"
ANSWER_PURPOSE = "membership-answer"
#: Files an applicant may send with the form, and with each answer.
MAX_FILES = 3
OPEN = ("new", "waiting")
#: What the form takes, with the longest each may be.
LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "address": 1000,
    "profession": 200,
    "registration_number": 60,
}


@dataclass(frozen=True)
class Draft:
    """What the application form holds once read."""

    first_name: str
    last_name: str
    email: str
    address: str
    profession: str
    registration_body: str
    registration_number: str
    training: str
    conduct_version: str
    privacy_version: str


# --- the categories people can join -------------------------------------------------------------------------


def categories(session: Session) -> list[MemberCategory]:
    """Every category in display order (the options page shows them all; some are given, not applied for)."""
    return list(
        session.scalars(select(MemberCategory).order_by(MemberCategory.position, MemberCategory.label))
    )


def open_category(session: Session, code: str) -> MemberCategory:
    found = session.scalar(
        select(MemberCategory).where(MemberCategory.code == code, MemberCategory.open_to_applicants.is_(True))
    )
    if found is None:
        raise MembershipError(Code.NOT_OPEN, "That category cannot be applied for here.", kind=Kind.NOT_FOUND)
    return found


def check_draft(values: Mapping[str, str]) -> dict[str, str]:
    """Messages by field for what the form's own reading does not already check: the lists' choices, and a
    registration number for those registered with a body."""
    errors: dict[str, str] = {}
    if values.get("registration_body") not in REGISTRATION_BODIES:
        errors["registration_body"] = "Choose the body you are registered with, or “Not registered”."
    elif values["registration_body"] != "none" and not values.get("registration_number"):
        errors["registration_number"] = "Enter your registration number with that body."
    if values.get("training") not in TRAINING:
        errors["training"] = "Choose the IPT training you have completed."
    return errors


# --- applying -----------------------------------------------------------------------------------------------


def submit_application(
    session: Session,
    *,
    category_code: str,
    draft: Draft,
    files: Sequence[Evidence],
    ip: str,
    now: datetime,
    key: bytes,
    links: Links,
    provider: FeeProvider | None = None,
) -> Application | None:
    """Someone applies. Returns the new application, or None when the address is already on the roll or has an
    application open: that address is then e-mailed why (how to log in, or that it is being looked at), and
    the caller shows the same page either way. A category staff need not look at is approved at once."""
    category = open_category(session, category_code)
    email = draft.email.strip().lower()
    mail.throttle(session, purpose="membership_apply", email=email, ip=ip, now=now)
    context = {"society_name": society_name(session), "name": draft.first_name}
    on_roll = session.scalar(select(Member).where(Member.email == email, Member.erased_at.is_(None)))
    if on_roll is not None:
        mail.enqueue(
            session,
            to=email,
            template="membership/already_member",
            context={
                **context,
                "login_url": links.login(),
                "activate_url": links.activate_request(),
                "forgot_url": links.forgot_password(),
            },
            now=now,
        )
        audit.record(
            session, actor=None, action="membership.apply_on_roll", subject=on_roll.membership_number, now=now
        )
        return None
    pending = session.scalar(
        select(Application).where(Application.email == email, Application.status.in_(OPEN)).limit(1)
    )
    if pending is not None:
        mail.enqueue(
            session,
            to=email,
            template="membership/in_progress",
            context={**context, "reference": pending.reference},
            now=now,
        )
        audit.record(session, actor=None, action="membership.apply_again", subject=pending.reference, now=now)
        return None
    if category.evidence_upload and not files:
        raise MembershipError(
            Code.BAD_VALUE, "Upload the evidence this category asks for.", field="evidence_1"
        )
    application = Application(
        status="new",
        category=category.code,
        first_name=draft.first_name,
        last_name=draft.last_name,
        email=email,
        address=draft.address,
        profession=draft.profession,
        registration_body=draft.registration_body,
        registration_number=draft.registration_number if draft.registration_body != "none" else "",
        training=draft.training,
        conduct_version=draft.conduct_version,
        privacy_version=draft.privacy_version,
        declared_at=now,
        created_at=now,
        updated_at=now,
    )
    application.files = [_file(f, now) for f in files[:MAX_FILES]]
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=None,
        action="membership.apply",
        subject=application.reference,
        details={"category": category.code, "files": len(application.files)},
        now=now,
    )
    mail.enqueue(
        session,
        to=email,
        template="membership/received",
        context={
            **context,
            "reference": application.reference,
            "category": category.label,
            "needs_approval": category.needs_approval,
        },
        now=now,
    )
    if not category.needs_approval:
        approve(
            session,
            application_id=application.id,
            actor=None,
            now=now,
            key=key,
            links=links,
            provider=provider,
        )
    return application


def _file(evidence: Evidence, now: datetime) -> ApplicationFile:
    return ApplicationFile(
        filename=evidence.filename[:200],
        content_type=evidence.content_type,
        content=evidence.content,
        uploaded_at=now,
    )


# --- the office's questions and the applicant's answers -------------------------------------------------------


def get_application(session: Session, application_id: int) -> Application:
    found = session.get(Application, application_id)
    if found is None:
        raise MembershipError(Code.NOT_FOUND, "There is no such application.", kind=Kind.NOT_FOUND)
    return found


def _move(session: Session, application: Application, *, to: str, now: datetime, **values: Any) -> None:
    """Move an open application to `to`, or refuse when someone else decided it a moment ago."""
    moved = rowcount(
        session.execute(
            update(Application)
            .where(Application.id == application.id, Application.status.in_(OPEN))
            .values(status=to, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        raise MembershipError(
            Code.WRONG_STATUS,
            "This application has already been decided.",
            kind=Kind.CONFLICT,
        )
    session.refresh(application)


def _tell_applicant(
    session: Session,
    application: Application,
    template: str,
    context: dict[str, Any],
    *,
    now: datetime,
    **sending: Any,
) -> None:
    """E-mail the applicant (through the outbox, in the action's transaction): every such e-mail names the
    society, greets them and quotes their reference."""
    mail.enqueue(
        session,
        to=application.email,
        template=template,
        context={
            "society_name": society_name(session),
            "name": application.first_name,
            "reference": application.reference,
            **context,
        },
        now=now,
        **sending,
    )


def ask_for_more(
    session: Session,
    *,
    application_id: int,
    question: str,
    actor: Account,
    now: datetime,
    key: bytes,
    links: Links,
) -> Application:
    """The office asks the applicant for more; the applicant answers through a private link (a new one each
    time: the last question's link stops working)."""
    question = question.strip()
    if not question:
        raise MembershipError(Code.BAD_VALUE, "Say what the applicant should send.", field="question")
    if len(question) > 5000:
        raise MembershipError(Code.BAD_VALUE, "Keep the question to 5000 characters.", field="question")
    application = get_application(session, application_id)
    token = new_token()
    _move(
        session,
        application,
        to="waiting",
        now=now,
        answer_digest=token_digest(key, token, purpose=ANSWER_PURPOSE),
    )
    session.add(
        ApplicationMessage(
            application_id=application.id,
            at=now,
            author="office",
            author_name=actor.name[:300],
            body=question,
        )
    )
    session.flush()
    audit.record(session, actor=actor, action="membership.ask", subject=application.reference, now=now)
    _tell_applicant(
        session,
        application,
        "membership/more_needed",
        {"question": question},
        now=now,
        secrets={"link": links.answer(token)},
        key=key,
    )
    return application


def application_for_token(session: Session, *, token: str, key: bytes) -> Application:
    """The application waiting for the answer this link gives, or `answer_link_gone` (used, replaced by a newer
    question, or decided since)."""
    found = None
    if token:
        found = session.scalar(
            select(Application).where(
                Application.answer_digest == token_digest(key, token, purpose=ANSWER_PURPOSE),
                Application.status == "waiting",
            )
        )
    if found is None:
        raise MembershipError(
            Code.LINK_GONE,
            "This link no longer works: it has been used, or the office has written to you again since.",
            kind=Kind.GONE,
        )
    return found


def answer(
    session: Session, *, token: str, body: str, files: Sequence[Evidence], now: datetime, key: bytes
) -> Application:
    """The applicant answers: the application is back in the office's queue as new, and the link is spent."""
    body = body.strip()
    if not body and not files:
        raise MembershipError(Code.BAD_VALUE, "Write your answer, or upload a file.", field="answer")
    if len(body) > 10000:
        raise MembershipError(Code.BAD_VALUE, "Keep your answer to 10000 characters.", field="answer")
    application = application_for_token(session, token=token, key=key)
    spent = rowcount(
        session.execute(
            update(Application)
            .where(Application.id == application.id, Application.answer_digest == application.answer_digest)
            .values(status="new", answer_digest=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if spent != 1:
        raise MembershipError(Code.LINK_GONE, "This link has just been used.", kind=Kind.GONE)
    session.refresh(application)
    session.add(
        ApplicationMessage(
            application_id=application.id,
            at=now,
            author="applicant",
            author_name=application.full_name,
            body=body or "(files only)",
        )
    )
    room = MAX_FILES * 4 - len(application.files)
    for evidence in list(files)[: max(room, 0)]:
        application.files.append(_file(evidence, now))
    session.flush()
    audit.record(
        session,
        actor=None,
        action="membership.answer",
        subject=application.reference,
        details={"files": len(files)},
        now=now,
    )
    _tell_applicant(session, application, "membership/answer_received", {}, now=now)
    return application


# --- deciding -------------------------------------------------------------------------------------------------


def next_membership_number(session: Session) -> str:
    """The next membership number, from a gap-free sequence taken in the caller's transaction (an approval
    that rolls back gives its number back). The sequence starts after the highest number on the roll when it
    is first used; a number the roll already holds (a later import) is passed over."""
    start = 0
    if (
        session.scalar(select(NumberSequence.last_value).where(NumberSequence.name == MEMBERSHIP_SEQUENCE))
        is None
    ):
        numbers = session.scalars(select(Member.membership_number)).all()
        start = max((int(n) for n in numbers if n.isdigit() and len(n) < 10), default=0)
    while True:
        number = str(invoices.next_number(session, MEMBERSHIP_SEQUENCE, start=start))
        if session.scalar(select(Member.id).where(Member.membership_number == number)) is None:
            return number


def approve(
    session: Session,
    *,
    application_id: int,
    actor: Account | None,
    now: datetime,
    key: bytes,
    links: Links,
    provider: FeeProvider | None = None,
    card: bool = False,
) -> Application:
    """Approve: the next membership number, the applicant on the roll, and the first fee asked for. A free
    category makes the member active at once and sends the activation link; a paid one leaves them awaiting
    the fee (`record_first_fee` then activates)."""
    application = get_application(session, application_id)
    category = session.scalar(select(MemberCategory).where(MemberCategory.code == application.category))
    if category is None:
        raise MembershipError(
            Code.NOT_OPEN, "The category applied for has been removed; change it first.", kind=Kind.CONFLICT
        )
    label = audit.actor_label(actor) if actor is not None else "Approved as sent"
    _move(session, application, to="approved", now=now, decided_at=now, decided_by=label[:300])
    if session.scalar(select(Member.id).where(Member.email == application.email)) is not None:
        raise MembershipError(
            Code.NUMBER_TAKEN,
            "A member on the roll already has this e-mail address: reject this application, or change theirs.",
            kind=Kind.CONFLICT,
        )
    today = now.astimezone(LONDON).date()
    first = periods.first_year(membership_settings(session), annual_fee=category.annual_fee, joined_on=today)
    member = Member(
        membership_number=next_membership_number(session),
        email=application.email,
        first_name=application.first_name,
        last_name=application.last_name,
        category=category.code,
        accreditation="none",
        status="active" if first.fee == 0 else "pending",
        joined_on=first.joined_on,
        renewal_on=first.renewal_on,
        # What the applicant accepted goes with them onto the roll (renewing or re-consenting updates it).
        conduct_version=application.conduct_version,
        privacy_version=application.privacy_version,
        consented_at=application.declared_at,
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise MembershipError(
            Code.NUMBER_TAKEN, "The roll changed meanwhile; try again.", kind=Kind.CONFLICT
        ) from None
    members.record_change(
        session,
        member=member,
        changes={f: [None, members.json_value(getattr(member, f))] for f in members.FIELDS},
        actor=label,
        source="application",
        now=now,
    )
    application.member_id = member.id
    application.fee_amount = first.fee
    audit.record(
        session,
        actor=actor,
        action="membership.approve",
        subject=application.reference,
        details={"member": member.membership_number, "category": category.code, "fee": first.fee},
        now=now,
    )
    context = {
        "society_name": society_name(session),
        "name": application.first_name,
        "reference": application.reference,
        "category": category.label,
        "membership_number": member.membership_number,
        "renewal_on": first.renewal_on,
    }
    if first.fee == 0:
        _welcome(
            session,
            member=member,
            now=now,
            key=key,
            links=links,
            template="membership/welcome",
            context=context,
        )
        return application
    request = (provider or BankTransferFees()).request_fee(
        session, application=application, member=member, category=category, amount=first.fee, now=now
    )
    if card:  # card through Stripe Checkout, beside the invoice (see `card_fee_paid`)
        context["card_url"] = links.pay(application.id, pay_token(key, application.id))
    _ask_fee(session, application=application, request=request, context=context, now=now)
    return application


def _ask_fee(
    session: Session, *, application: Application, request: FeeRequest, context: dict[str, Any], now: datetime
) -> None:
    application.fee_reference = request.reference
    application.invoice_id = request.invoice.id if request.invoice is not None else None
    session.flush()
    attachments = invoices.invoice_attachments(request.invoice)
    mail.enqueue(
        session,
        to=application.email,
        template="membership/approved_fee",
        context={
            **context,
            "amount": invoices.amount_text(request.amount, request.currency),
            "instructions": request.instructions,
            "invoice": request.invoice.label if request.invoice is not None else "",
        },
        now=now,
        attachments=attachments,
    )


def reject(
    session: Session, *, application_id: int, reason: str, actor: Account, now: datetime
) -> Application:
    """Reject, with the reason the applicant is sent."""
    reason = reason.strip()
    if not reason:
        raise MembershipError(Code.BAD_VALUE, "Give the reason the applicant will be sent.", field="reason")
    if len(reason) > 5000:
        raise MembershipError(Code.BAD_VALUE, "Keep the reason to 5000 characters.", field="reason")
    application = get_application(session, application_id)
    _move(
        session,
        application,
        to="rejected",
        now=now,
        decided_at=now,
        decided_by=audit.actor_label(actor)[:300],
        reason=reason,
        answer_digest=None,
    )
    audit.record(session, actor=actor, action="membership.reject", subject=application.reference, now=now)
    _tell_applicant(session, application, "membership/rejected", {"reason": reason}, now=now)
    return application


def record_first_fee(
    session: Session,
    *,
    application_id: int,
    received_on: date,
    actor: Account | None,
    now: datetime,
    key: bytes,
    links: Links,
    paid: ledger.Paid = ledger.Paid(),
) -> Member:
    """The first fee has been paid (staff saw it on the statement, a statement's line quoted its reference, or
    the card provider said so): the member is made active and sent the activation link, and the payment is
    entered in the ledger. Once only: a second call is refused."""
    application = get_application(session, application_id)
    if application.status != "approved" or application.member_id is None or application.fee_amount <= 0:
        raise MembershipError(Code.NOTHING_OWED, "This application owes no fee.", kind=Kind.CONFLICT)
    claimed = rowcount(
        session.execute(
            update(Application)
            .where(Application.id == application.id, Application.fee_paid_on.is_(None))
            .values(fee_paid_on=received_on, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if claimed != 1:
        raise MembershipError(
            Code.NOTHING_OWED, "The first fee has already been recorded.", kind=Kind.CONFLICT
        )
    session.refresh(application)
    member = members.get_member(session, application.member_id, lock=True)
    label = audit.actor_label(actor) if actor is not None else "Payment provider"
    if member.status == "pending":
        member.status = "active"
        member.updated_at = now
        members.record_change(
            session,
            member=member,
            changes={"status": ["pending", "active"]},
            actor=label,
            source="application",
            now=now,
        )
    session.flush()
    ledger.record(
        session,
        purpose="first_fee",
        paid=paid,
        member_id=member.id,
        category=application.category,
        amount=application.fee_amount,
        received_on=received_on,
        actor=actor,
        now=now,
        application_id=application.id,
        invoice_id=application.invoice_id,
        reference=application.fee_reference,
    )
    audit.record(
        session,
        actor=actor,
        action="membership.first_fee",
        subject=application.reference,
        details={
            "member": member.membership_number,
            "amount": application.fee_amount,
            "method": paid.method,
            "source": paid.source,
            "reference": application.fee_reference,
        },
        now=now,
    )
    _welcome(
        session,
        member=member,
        now=now,
        key=key,
        links=links,
        template="membership/paid_welcome",
        context={
            "amount": invoices.amount_text(application.fee_amount, "GBP"),
            "renewal_on": member.renewal_on,
        },
    )
    return member


def _welcome(
    session: Session,
    *,
    member: Member,
    now: datetime,
    key: bytes,
    links: Links,
    template: str,
    context: dict[str, Any],
) -> None:
    """The new member's activation link; when their address already belongs to another login (a member of
    staff's), which activation never takes over, they are told their membership is active and the office will
    link the two."""
    if selfservice.send_activation(
        session, member=member, now=now, key=key, links=links, template=template, context=context
    ):
        return
    assert member.email is not None
    mail.enqueue(
        session,
        to=member.email,
        template="membership/joined_existing_login",
        context={
            "society_name": society_name(session),
            "name": member.first_name,
            "membership_number": member.membership_number,
        },
        now=now,
    )


# --- the office's queue ---------------------------------------------------------------------------------------


def queue(session: Session, *, status: str) -> list[Application]:
    query = select(Application)
    if status in APPLICATION_STATUSES:
        query = query.where(Application.status == status)
    return list(session.scalars(query.order_by(Application.id.desc()).limit(200)))


def queue_counts(session: Session) -> dict[str, int]:
    found = dict(session.execute(select(Application.status, func.count()).group_by(Application.status)).all())
    return {status: int(found.get(status, 0)) for status in APPLICATION_STATUSES}


def invoice_of(session: Session, application: Application) -> Invoice | None:
    return session.get(Invoice, application.invoice_id) if application.invoice_id is not None else None


def get_file(session: Session, *, application_id: int, file_id: int) -> ApplicationFile:
    found = session.scalar(
        select(ApplicationFile).where(
            ApplicationFile.id == file_id, ApplicationFile.application_id == application_id
        )
    )
    if found is None:
        raise MembershipError(Code.NOT_FOUND, "There is no such file.", kind=Kind.NOT_FOUND)
    return found


def fee_plan(
    session: Session, *, application_id: int, success_url: str, cancel_url: str
) -> cards.CheckoutPlan:
    """The Checkout Session for an approved application's first fee, tied to its invoice."""
    application = get_application(session, application_id)
    if application.status != "approved" or application.fee_amount <= 0 or application.fee_paid_on is not None:
        raise MembershipError(Code.NOTHING_OWED, "This application owes no fee.", kind=Kind.CONFLICT)
    category = session.scalar(select(MemberCategory).where(MemberCategory.code == application.category))
    return cards.CheckoutPlan(
        purpose="membership_fee",
        target_id=application.id,
        amount=application.fee_amount,
        currency="GBP",
        description=f"Membership ({category.label if category else application.category}), first year",
        reference=application.fee_reference,
        invoice_id=application.invoice_id,
        email=application.email,
        success_url=success_url,
        cancel_url=cancel_url,
    )


def fee_checkout(
    session: Session,
    *,
    application_id: int,
    success_url: str,
    cancel_url: str,
    created: Any,
    now: datetime,
) -> CardCheckout:
    """The checkout for the first fee: the one still open, else the session `created` asked Stripe for with
    no transaction open (see `cards.start_checkout`), checked against the application as it is now."""
    plan = fee_plan(session, application_id=application_id, success_url=success_url, cancel_url=cancel_url)
    return cards.start_checkout(session, plan, created, now=now)


def card_fee_paid(session: Session, checkout: CardCheckout, *, now: datetime, app: Any) -> None:
    """A paid Checkout Session for a first fee: recorded as staff would record it, through `record_first_fee`
    (the member made active, the activation link sent). Recorded already by hand: the payment is audited for
    the office to refund, and nothing else changes."""
    try:
        record_first_fee(
            session,
            application_id=checkout.target_id,
            received_on=now.astimezone(ZoneInfo("Europe/London")).date(),
            actor=None,
            now=now,
            key=app.state.settings.key_bytes(),
            links=Links.for_app(app),
            paid=ledger.by_card(checkout),
        )
    except MembershipError:
        ledger.card_paid_twice(
            session,
            checkout,
            action="membership.fee_paid_twice",
            subject=f"APP-{checkout.target_id:05d}",
            now=now,
        )


def card_fee_refunded(
    session: Session, checkout: CardCheckout, *, refund_id: str, actor: Account, now: datetime
) -> None:
    """A first fee's card payment paid back through Stripe: a refund row in the ledger."""
    application = get_application(session, checkout.target_id)
    ledger.record(
        session,
        purpose="first_fee",
        kind="refund",
        paid=ledger.Paid(method="card", source="stripe", provider_ref=f"stripe-refund:{refund_id}"),
        member_id=application.member_id,
        category=application.category,
        amount=checkout.amount,
        received_on=now.astimezone(LONDON).date(),
        actor=actor,
        now=now,
        application_id=application.id,
        invoice_id=application.invoice_id,
        reference=application.fee_reference,
    )


cards.register("membership_fee", card_fee_paid, card_fee_refunded)
