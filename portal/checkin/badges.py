"""Badge codes: what a QR badge carries, how it is signed and how a door checks it.

A code is `B1:` followed by upper-case base32 (no padding) of `payload || signature`:

- payload: three unsigned LEB128 varints — registration id, event id, badge serial — usually 4 to 7 bytes;
- signature: Ed25519 (64 bytes) over `b"B1:" + payload`, made with the event's own key.

Everything in it is in the QR alphanumeric set (0-9, A-Z, and `:`), so the symbol stays small (about 115
characters: QR version 5 at level M) and scans from paper or a phone screen. Each event's key pair is derived
from the portal's secret key with HKDF (the event id in `info`), so no private key is ever stored, and a
scanner needs only the event's public key to tell a real badge from a forged or edited one. A reissued badge
has a higher serial; the old code still verifies, and the server (or the offline scanner's attendee list)
answers `revoked` for it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "B1:"
SIGNATURE_BYTES = 64
#: A varint longer than this is not one of ours (ids fit in 63 bits).
MAX_VARINT_BYTES = 9
#: Longest code we will even try to decode: keeps junk from a keyboard wedge cheap to refuse.
MAX_CODE_CHARS = 200


class BadCode(ValueError):
    """The text is not a badge code, or its signature does not hold. Always answered as `invalid`."""


@dataclass(frozen=True)
class BadgeClaim:
    """What a verified code says."""

    registration_id: int
    event_id: int
    serial: int


# --- keys ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _private_key(secret: bytes, event_id: int) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=SHA256(),
        length=32,
        salt=b"portal-badge-signing",
        info=f"badge-key:event:{event_id}".encode(),
    ).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)


@functools.lru_cache(maxsize=256)
def _public_key(secret: bytes, event_id: int) -> Ed25519PublicKey:
    return _private_key(secret, event_id).public_key()


def public_key_bytes(secret: bytes, event_id: int) -> bytes:
    """The event's raw 32-byte Ed25519 public key (what WebCrypto's `importKey("raw", ...)` takes)."""
    return _public_key(secret, event_id).public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64(secret: bytes, event_id: int) -> str:
    return base64.urlsafe_b64encode(public_key_bytes(secret, event_id)).decode().rstrip("=")


# --- encoding -----------------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        raise ValueError("badge fields are never negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise BadCode("truncated")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise BadCode("non-canonical varint")
            return value, pos + i + 1
    raise BadCode("varint too long")


def _payload(claim: BadgeClaim) -> bytes:
    return _varint(claim.registration_id) + _varint(claim.event_id) + _varint(claim.serial)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def issue(secret: bytes, *, registration_id: int, event_id: int, serial: int) -> str:
    """The signed code for one badge."""
    claim = BadgeClaim(registration_id=registration_id, event_id=event_id, serial=serial)
    payload = _payload(claim)
    signature = _private_key(secret, event_id).sign(PREFIX.encode() + payload)
    return PREFIX + _b32(payload + signature)


def normalise(text: str) -> str:
    """What a scanner or a keyboard wedge delivered, made comparable: no spaces, upper case."""
    return "".join(text.split()).upper()


def parse(text: str) -> tuple[BadgeClaim, bytes, bytes]:
    """Split a code into its claim, the signed message and the signature — without checking the signature."""
    code = normalise(text)
    if len(code) > MAX_CODE_CHARS or not code.startswith(PREFIX):
        raise BadCode("not a badge code")
    body = code[len(PREFIX) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise BadCode("not base32") from None
    if _b32(raw) != body:
        raise BadCode("non-canonical base32")
    if len(raw) <= SIGNATURE_BYTES:
        raise BadCode("too short")
    payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    registration_id, pos = _read_varint(payload, 0)
    event_id, pos = _read_varint(payload, pos)
    serial, pos = _read_varint(payload, pos)
    if pos != len(payload):
        raise BadCode("trailing bytes")
    claim = BadgeClaim(registration_id=registration_id, event_id=event_id, serial=serial)
    return claim, PREFIX.encode() + payload, signature


def verify(secret: bytes, text: str, *, event_id: int | None = None) -> BadgeClaim:
    """The claim of a genuine code, checked against the key of `event_id` (default: the event it names).

    Raises `BadCode` for anything that is not a well-formed code signed by that event's key.
    """
    claim, message, signature = parse(text)
    try:
        _public_key(secret, claim.event_id if event_id is None else event_id).verify(signature, message)
    except InvalidSignature:
        raise BadCode("bad signature") from None
    return claim


def fingerprint(text: str) -> str:
    """A short, stable name for whatever was scanned, kept in the scan log instead of the code itself."""
    return hashlib.sha256(normalise(text)[:MAX_CODE_CHARS].encode()).hexdigest()[:32]
