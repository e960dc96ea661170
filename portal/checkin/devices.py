"""Scanner devices: a phone or laptop at a door, let in by a bearer token instead of a login. The office adds
and revokes them; the token is shown once and stored only as a keyed digest; the request boundary sees a
device as a `DevicePrincipal` with the `door` role for its one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.checkin.errors import CheckInError, Code
from portal.checkin.models import ScannerDevice
from portal.db import rowcount
from portal.errors import NotFound
from portal.events.models import Event
from portal.web.forms import clean_text
from portal.web.tokens import new_token, token_digest

DEVICE_PURPOSE = "scanner-device"
#: The longest bearer token looked up at all (a real one is 43 characters).
MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class DevicePrincipal:
    """A scanner device's bearer token, seen by the request boundary as a login with the `door` role for one event."""

    device_id: int
    event_id: int
    name: str
    roles: frozenset[str] = frozenset({"door"})
    account_id: None = None
    member_id: None = None
    session_id: None = None
    email: str = ""
    #: A device has no second factor to set up: its token is its credential.
    must_set_up_totp: bool = False

    def has(self, *roles: str) -> bool:
        return "door" in roles

    @property
    def is_staff(self) -> bool:
        return False


_DEVICE = select(ScannerDevice.id, ScannerDevice.event_id, ScannerDevice.name).where(
    ScannerDevice.token_digest == bindparam("digest"), ScannerDevice.revoked_at.is_(None)
)


def digest_of(token: str, *, key: bytes) -> str | None:
    """The keyed digest a device's token is stored as; None for what cannot be a token."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return token_digest(key, token, purpose=DEVICE_PURPOSE)


def by_digest(session: Session, digest: str) -> DevicePrincipal | None:
    row = session.connection().execute(_DEVICE, {"digest": digest}).first()
    if row is None:
        return None
    return DevicePrincipal(device_id=row.id, event_id=row.event_id, name=row.name)


def load_device(session: Session, *, token: str, key: bytes) -> DevicePrincipal | None:
    """The live device holding this bearer token, or None (unknown or revoked)."""
    digest = digest_of(token, key=key)
    return by_digest(session, digest) if digest is not None else None


def device_loader(ctx: Any, token: str) -> DevicePrincipal | None:
    """The device loader `create_app` wires in: what the boundary calls for `@api(..., devices=True)` with a bearer token.
    Scanners send a scan a second: the look-up is cached briefly (see `DoorState.device`)."""
    state = getattr(ctx.request.app.state, "checkin", None)
    if state is None:
        return load_device(ctx.db, token=token, key=ctx.key)
    return state.device(ctx.db, token=token, key=ctx.key)


def create_device(
    session: Session, *, actor: Account, event_id: int, name: str, key: bytes, now: datetime
) -> tuple[ScannerDevice, str]:
    """A new scanner device for one event; returns it and its token (shown once, stored only as a digest)."""
    name = " ".join(clean_text(name).split())[:80]
    if not name:
        raise CheckInError(Code.BAD_NAME, "Give the device a name, such as the door it is used at.")
    if session.get(Event, event_id) is None:
        raise NotFound("There is no such event.")
    token = new_token(32)
    device = ScannerDevice(
        event_id=event_id,
        name=name,
        token_digest=token_digest(key, token, purpose=DEVICE_PURPOSE),
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(device)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="checkin.device_create",
        subject=name,
        details={"event": event_id, "device": device.id},
        now=now,
    )
    return device, token


def revoke_device(
    session: Session, *, actor: Account, event_id: int, device_id: int, now: datetime
) -> ScannerDevice:
    device = session.get(ScannerDevice, device_id)
    if device is None or device.event_id != event_id:
        raise NotFound("There is no such scanner device.")
    done = session.execute(
        update(ScannerDevice)
        .where(ScannerDevice.id == device_id, ScannerDevice.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if rowcount(done) == 1:
        audit.record(
            session,
            actor=actor,
            action="checkin.device_revoke",
            subject=device.name,
            details={"event": event_id, "device": device_id},
            now=now,
        )
    session.refresh(device)
    return device


def for_event(session: Session, *, event_id: int) -> list[ScannerDevice]:
    """The event's devices, live ones first, by name."""
    return list(
        session.scalars(
            select(ScannerDevice)
            .where(ScannerDevice.event_id == event_id)
            .order_by(ScannerDevice.revoked_at.is_not(None), ScannerDevice.name)
        )
    )
