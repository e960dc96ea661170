"""The cryptography of ballot secrecy: the canonical form of a ballot, its tracker, and the seal that keeps
ballots in the pending pool unreadable to anyone holding only a copy of the database.

The sealing key is derived by HKDF from the portal's secret key (which lives in the environment, never in
the database) and bound to one election, so a sealed ballot cannot be replayed into another election's pool.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

Choice = int | str
Selections = Mapping[int, Sequence[Choice]]

TRACKER_LENGTH = 10
NONCE_BYTES = 12


def canonical(selections: Selections) -> str:
    """One text for one ballot: contest ids as keys in sorted order, no spaces. The tracker hashes this, and
    the ballots table stores it, so anyone can recompute a tracker from a published ballot."""
    return json.dumps(
        {str(contest_id): list(choices) for contest_id, choices in sorted(selections.items())},
        separators=(",", ":"),
        sort_keys=True,
    )


def parse_contents(contents: str) -> dict[int, list[Choice]]:
    return {int(k): list(v) for k, v in json.loads(contents).items()}


def new_salt() -> str:
    return secrets.token_hex(16)


def tracker_for(salt: str, contents: str) -> str:
    """First 10 characters of base32(SHA-256(salt ‖ canonical ballot)): 50 bits, easy to read aloud."""
    digest = hashlib.sha256(bytes.fromhex(salt) + contents.encode()).digest()
    return base64.b32encode(digest).decode()[:TRACKER_LENGTH]


def format_tracker(tracker: str) -> str:
    """ "ABCDE-FGHIJ": groups of five are easier to copy and compare."""
    return "-".join(tracker[i : i + 5] for i in range(0, len(tracker), 5))


def normalise_tracker(text: str) -> str:
    """What a person typed (any case, spaces or dashes) as stored."""
    return "".join(ch for ch in text.upper() if ch.isalnum())[: TRACKER_LENGTH + 2]


@dataclass(frozen=True)
class SealedContent:
    tracker: str
    salt: str
    contents: str


def _aead(key: bytes, election_id: int) -> AESGCM:
    derived = HKDF(
        algorithm=SHA256(), length=32, salt=b"portal-ballot-pool", info=f"election:{election_id}".encode()
    ).derive(key)
    return AESGCM(derived)


def seal(key: bytes, election_id: int, content: SealedContent) -> bytes:
    """Nonce ‖ AES-GCM ciphertext of the ballot, its tracker and salt; the election id is authenticated."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = json.dumps([content.tracker, content.salt, content.contents]).encode()
    return nonce + _aead(key, election_id).encrypt(nonce, plain, f"election:{election_id}".encode())


def unseal(key: bytes, election_id: int, sealed: bytes) -> SealedContent:
    plain = _aead(key, election_id).decrypt(
        sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], f"election:{election_id}".encode()
    )
    tracker, salt, contents = json.loads(plain)
    return SealedContent(tracker=tracker, salt=salt, contents=contents)
