"""Self-service by e-mailed link: a member activates their account, anyone resets a forgotten password,
and a member changes their e-mail address.

Only people on the roll have member accounts: activation starts from the roll (an active member's address),
creates the login linked to that member, and e-mails a single-use link to the address on the roll. The
answers to "activate" and "forgot password" are the same whatever the address, so the pages never tell
anyone who is a member or has an account; and each such request is counted (`mail.service.throttle`), so
nobody can use the portal to flood a mailbox. Every link is a token stored only as its keyed digest
(`service.issue_token`), works once, and expires: activation in 24 hours, password reset in one hour, a
change of address in 24 hours. The e-mails are written to the outbox in the request's own transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts import service
from portal.accounts.errors import Code as AccountCode
from portal.accounts.models import Account, AccountToken
from portal.db import is_postgres
from portal.errors import Kind, PortalError
from portal.mail import service as mail
from portal.members.errors import Code
from portal.members.models import Member, MemberChange
from portal.society.service import society_name
from portal.web import links as web_links

log = logging.getLogger("portal.accounts")

ACTIVATE_VALID = timedelta(hours=24)
RESET_VALID = service.RESET_VALID
CHANGE_EMAIL_VALID = timedelta(hours=24)


class SelfServiceError(PortalError):
    """`code` is one of: email_taken (when a change is confirmed), same_email."""


@dataclass(frozen=True)
class Links(web_links.Links):
    """The links self-service e-mails carry (see `web/links.py`)."""

    def activate(self, token: str) -> str:
        """Choosing a password through an activation link lands the member on My account."""
        return f"{self.url('accounts:set_password', token=token)}?next={self.path('me:account')}"

    def reset_password(self, token: str) -> str:
        return self.url("accounts:set_password", token=token)

    def confirm_email(self, token: str) -> str:
        return self.url("me:confirm_email", token=token)

    def login(self) -> str:
        return self.url("accounts:login")

    def forgot_password(self) -> str:
        return self.url("me:forgot_password")


def normalise(email: str) -> str:
    return email.strip().lower()


# --- activation ---------------------------------------------------------------------------------------------


def request_activation(
    session: Session, *, email: str, ip: str, now: datetime, key: bytes, links: Links
) -> None:
    """Someone asks to activate a member account for `email`. If it is an active member's address on the
    roll, e-mail that address a link to choose a password (creating the account, linked to the member, if
    there is none yet); a member who already has a password is told so instead. Otherwise nothing happens.
    An address that already has a login (a member of staff's, say) is never linked to the member, and an
    existing login is only ever e-mailed at its own address. The caller answers the same either way."""
    email = normalise(email)
    mail.throttle(session, purpose="activate", email=email, ip=ip, now=now)
    query = select(Member).where(Member.email == email, Member.status == "active", Member.erased_at.is_(None))
    if is_postgres(session):
        # Two requests for one member wait for each other, so the second finds the first one's account.
        query = query.with_for_update()
    member = session.scalar(query)
    if member is None or member.email is None:
        return
    send_activation(session, member=member, now=now, key=key, links=links)


def send_activation(
    session: Session,
    *,
    member: Member,
    now: datetime,
    key: bytes,
    links: Links,
    template: str = "accounts/activate",
    context: dict[str, Any] | None = None,
) -> bool:
    """E-mail an active member on the roll the link that chooses their password, making their login (linked to
    the member) if there is none yet; a member who already has a password is told how to log in instead.
    Whether it was asked for (`request_activation`) or follows from joining (`template` then welcomes the new
    member, with `context`). False when nothing was sent (the address belongs to another login)."""
    if member.email is None:
        return False
    account = session.scalar(select(Account).where(Account.member_id == member.id))
    if account is None:
        if session.scalar(select(Account.id).where(Account.email == member.email)) is not None:
            # Activation never attaches a member to a login that already exists (staff or anyone's): the roll
            # is edited by staff, so an address put on the roll must not hand over the login it belongs to.
            log.info("activation for member %s: the address already has a login; nothing linked", member.id)
            return False
        account = Account(
            name=member.full_name,
            email=member.email,
            roles="",
            password_hash=None,
            created_at=now,
            is_active=True,
            member_id=member.id,
        )
        session.add(account)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            log.warning("activation for member %s met a concurrent change; nothing sent", member.id)
            return False
    if account.is_staff or account.email != member.email:
        # A staff login, or one whose own address differs from the roll's: activation links go only to the
        # login's own address, and only for a member's login; anything else is a change of address (/me/email).
        log.info("activation for member %s: the login is not the roll address's to activate", member.id)
        return False
    if not account.is_active:
        return False
    context = {
        "society_name": society_name(session),
        "name": member.first_name or member.full_name,
        **(context or {}),
    }
    if account.password_hash:
        mail.enqueue(
            session,
            to=member.email,
            template="accounts/already_active",
            context={**context, "login_url": links.login(), "forgot_url": links.forgot_password()},
            now=now,
        )
        return True
    token = service.issue_token(
        session, account=account, purpose="activate", valid=ACTIVATE_VALID, now=now, key=key
    )
    mail.enqueue(
        session,
        to=member.email,
        template=template,
        context={**context, "membership_number": member.membership_number},
        now=now,
        secrets={"link": links.activate(token)},
        key=key,
    )
    return True


# --- forgotten password -------------------------------------------------------------------------------------


def request_password_reset(
    session: Session, *, email: str, ip: str, now: datetime, key: bytes, links: Links
) -> None:
    """Someone asks for a password-reset link for `email`: any active account (member or staff) with that
    address gets one, valid for an hour. The caller answers the same whether or not there is one."""
    email = normalise(email)
    mail.throttle(session, purpose="reset_password", email=email, ip=ip, now=now)
    account = session.scalar(select(Account).where(Account.email == email, Account.is_active.is_(True)))
    if account is None:
        return
    token = service.issue_token(
        session, account=account, purpose="reset_password", valid=RESET_VALID, now=now, key=key
    )
    mail.enqueue(
        session,
        to=account.email,
        template="accounts/reset_password",
        context={
            "society_name": society_name(session),
            "name": account.name,
            "forgot_url": links.forgot_password(),
        },
        now=now,
        secrets={"link": links.reset_password(token)},
        key=key,
    )


# --- change of e-mail address -------------------------------------------------------------------------------


def _is_taken(session: Session, *, address: str, account: Account) -> bool:
    other_account = session.scalar(
        select(Account.id).where(Account.email == address, Account.id != account.id)
    )
    member_query = select(Member.id).where(Member.email == address)
    if account.member_id is not None:
        member_query = member_query.where(Member.id != account.member_id)
    return other_account is not None or session.scalar(member_query) is not None


def _check_free(session: Session, *, address: str, account: Account) -> None:
    if _is_taken(session, address=address, account=account):
        raise SelfServiceError(
            Code.EMAIL_TAKEN,
            "That e-mail address is already used by someone else here. Choose another, or ask the office.",
            kind=Kind.CONFLICT,
        )


def request_email_change(
    session: Session, *, account_id: int, new_email: str, ip: str, now: datetime, key: bytes, links: Links
) -> str:
    """Send a confirmation link to the new address; nothing changes until it is followed. Returns it.

    The answer is the same whether or not the address is taken (so nobody learns who has an account here):
    when it is, no link is sent, and the address's owner is told that someone tried to use it."""
    account = session.get(Account, account_id)
    assert account is not None
    new_email = normalise(new_email)
    if new_email == account.email:
        raise SelfServiceError(Code.SAME_EMAIL, "That is already your e-mail address.")
    mail.throttle(session, purpose="change_email", email=new_email, ip=ip, now=now)
    if _is_taken(session, address=new_email, account=account):
        mail.enqueue(
            session,
            to=new_email,
            template="accounts/email_change_refused",
            context={"society_name": society_name(session)},
            now=now,
        )
        return new_email
    token = service.issue_token(
        session,
        account=account,
        purpose="change_email",
        valid=CHANGE_EMAIL_VALID,
        now=now,
        key=key,
        payload=new_email,
    )
    mail.enqueue(
        session,
        to=new_email,
        template="accounts/change_email",
        context={
            "society_name": society_name(session),
            "name": account.name,
            "new_email": new_email,
        },
        now=now,
        secrets={"link": links.confirm_email(token)},
        key=key,
    )
    return new_email


def pending_email_change(session: Session, *, token: str, now: datetime, key: bytes) -> AccountToken:
    """The live change-of-address link (for the page that asks to confirm it), or `bad_token`."""
    return service.peek_token(session, token=token, purposes=("change_email",), now=now, key=key)


def confirm_email_change(session: Session, *, token: str, now: datetime, key: bytes) -> Account:
    """Follow a change-of-address link: the login's address and the member's address on the roll change
    together, the change is kept in the member's history, every other outstanding link stops working, and
    the old address is told."""
    row = service.redeem_token(session, token=token, purposes=("change_email",), now=now, key=key)
    account = session.get(Account, row.account_id)
    assert account is not None
    if not account.is_active:
        raise service.AccountError(
            AccountCode.DISABLED, "This account has been disabled.", kind=Kind.FORBIDDEN
        )
    new_email, old_email = row.payload, account.email
    _check_free(session, address=new_email, account=account)
    member = session.get(Member, account.member_id) if account.member_id is not None else None
    try:
        with session.begin_nested():
            account.email = new_email
            if member is not None:
                session.add(
                    MemberChange(
                        member_id=member.id,
                        at=now,
                        actor=audit.actor_label(account),
                        source="self-service",
                        changes=json.dumps({"email": [member.email, new_email]}),
                    )
                )
                member.email = new_email
                member.updated_at = now
            session.flush()
    except IntegrityError:
        raise SelfServiceError(
            Code.EMAIL_TAKEN, "That e-mail address has just been taken by someone else.", kind=Kind.CONFLICT
        ) from None
    # A link sent to the old address (a password reset, say) must not outlive the change.
    session.execute(
        update(AccountToken)
        .where(AccountToken.account_id == account.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=account,
        action="account.email_changed",
        subject=new_email,
        details={"from": old_email},
        now=now,
    )
    mail.enqueue(
        session,
        to=old_email,
        template="accounts/email_changed",
        context={"society_name": society_name(session), "name": account.name, "new_email": new_email},
        now=now,
    )
    return account
