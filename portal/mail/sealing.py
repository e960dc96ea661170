"""The sealed part of an e-mail that carries a single-use link: the body as sent, encrypted at rest.

The outbox row keeps, in plain columns, the template's context with each single-use link replaced by
`PLACEHOLDER` (and e-mails written before that, the rendered body so): that is what staff see on the outbox
page. What the recipient gets (the real links, by the name the template prints them under, and any attachment
that holds one; for e-mails written before, the body with the real links) is kept only in `OutboxEmail.sealed`, encrypted with AES-GCM under a key derived by HKDF from
the portal's secret key for this purpose alone. The e-mail's id and kind are authenticated as associated
data, so a sealed part copied onto another row (say, an e-mail to the attacker's own address) does not open.
The sender opens it at send time and the row is scrubbed (`sealed` set NULL) in the transaction that records
the outcome, so a copy of the database holds no working link once an e-mail has gone.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: What staff (and the log, outside development) see where a single-use link was.
PLACEHOLDER = "[personal link, sent to the recipient only]"
#: The stored content of an attachment that carries a single-use link (a calendar file with the booking link).
ATTACHMENT_PLACEHOLDER = (
    b"This attachment carries a personal link. It is sent to the recipient only and not kept here.\r\n"
)

_NONCE = 12
_VERSION = b"\x01"


class SealError(Exception):
    """The sealed part does not open: another secret key, another row, or altered bytes."""


@dataclass(frozen=True)
class Opened:
    """The e-mail as it is sent: its parts with the real links, and the real content of the attachments that
    carry one (by their position among the e-mail's attachments). What is sealed holds `secrets` (the real
    links by template name) and empty parts when the e-mail is rendered from its stored context."""

    text: str
    html: str | None
    attachments: dict[int, bytes]
    secrets: dict[str, str] = field(default_factory=dict)


def _key(secret_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"portal.mail.outbox", info=b"outbox single-use links v1"
    ).derive(secret_key)


def _associated(email_id: int, kind: str) -> bytes:
    return f"outbox-email:{email_id}:{kind}".encode()


def seal(secret_key: bytes, *, email_id: int, kind: str, opened: Opened) -> bytes:
    payload = json.dumps(
        {
            "text": opened.text,
            "html": opened.html,
            "secrets": opened.secrets,
            "attachments": {
                str(i): base64.b64encode(content).decode() for i, content in opened.attachments.items()
            },
        }
    ).encode()
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + AESGCM(_key(secret_key)).encrypt(nonce, payload, _associated(email_id, kind))


def unseal(secret_key: bytes, *, email_id: int, kind: str, sealed: bytes) -> Opened:
    if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
        raise SealError("not a sealed e-mail")
    nonce, ciphertext = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    try:
        raw = AESGCM(_key(secret_key)).decrypt(nonce, ciphertext, _associated(email_id, kind))
    except InvalidTag:
        raise SealError("the sealed part does not open with this secret key for this e-mail") from None
    data = json.loads(raw)
    return Opened(
        text=data["text"],
        html=data["html"],
        attachments={int(i): base64.b64decode(v) for i, v in data["attachments"].items()},
        secrets=data.get("secrets") or {},
    )
