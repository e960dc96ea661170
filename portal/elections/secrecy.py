"""The cryptography of ballot secrecy: the canonical form of a ballot, its tracker, and the seal that keeps
ballots in the pending pool unreadable to anyone but the election's trustees, together.

A ballot is sealed in the voter's request to the election's X25519 public key: a fresh ephemeral key pair,
the shared secret through HKDF-SHA256 to an AES-GCM key, the election id authenticated. The private key is
never stored (it exists only as the trustees' Shamir shares), so neither a copy of the database nor the
portal's secret key opens a pending ballot. The secret key still derives two keys of its own: one that
protects a trustee's share until they download it, and one that keys the ballots' fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

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


KEY_BYTES = 32


def derived_key(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived by HKDF from the portal's secret key."""
    return HKDF(algorithm=SHA256(), length=32, salt=b"portal-elections", info=purpose.encode()).derive(key)


def new_key_pair() -> tuple[bytes, bytes]:
    """(private, public) X25519 keys, 32 raw bytes each."""
    private = X25519PrivateKey.generate()
    return private.private_bytes_raw(), public_bytes(private)


def public_bytes(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_of(private_key: bytes) -> bytes:
    return public_bytes(X25519PrivateKey.from_private_bytes(private_key))


def _ballot_aead(shared: bytes, ephemeral: bytes, election_public: bytes, election_id: int) -> AESGCM:
    derived = HKDF(
        algorithm=SHA256(),
        length=32,
        salt=ephemeral + election_public,
        info=f"portal-ballot:election:{election_id}".encode(),
    ).derive(shared)
    return AESGCM(derived)


def seal(public_key: bytes, election_id: int, content: SealedContent) -> bytes:
    """Ephemeral public key ‖ nonce ‖ AES-GCM ciphertext of the ballot, its tracker and salt, sealed to the
    election's public key; the election id is authenticated (a sealed ballot opens in no other election)."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = json.dumps([content.tracker, content.salt, content.contents]).encode()
    aead = _ballot_aead(shared, ephemeral_public, public_key, election_id)
    return ephemeral_public + nonce + aead.encrypt(nonce, plain, f"election:{election_id}".encode())


def unseal(private_key: bytes, election_id: int, sealed: bytes) -> SealedContent:
    """Open a sealed ballot with the election's private key (rebuilt from the trustees' shares).
    Raises cryptography's InvalidTag for any other key or election."""
    private = X25519PrivateKey.from_private_bytes(private_key)
    ephemeral_public = sealed[:KEY_BYTES]
    nonce = sealed[KEY_BYTES : KEY_BYTES + NONCE_BYTES]
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    aead = _ballot_aead(shared, ephemeral_public, public_bytes(private), election_id)
    plain = aead.decrypt(nonce, sealed[KEY_BYTES + NONCE_BYTES :], f"election:{election_id}".encode())
    tracker, salt, contents = json.loads(plain)
    return SealedContent(tracker=tracker, salt=salt, contents=contents)


def encrypt_at_rest(key: bytes, purpose: str, plain: bytes) -> bytes:
    """Nonce ‖ AES-GCM under a key derived from the secret key for `purpose` (also authenticated)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(derived_key(key, purpose)).encrypt(nonce, plain, purpose.encode())


def decrypt_at_rest(key: bytes, purpose: str, sealed: bytes) -> bytes:
    return AESGCM(derived_key(key, purpose)).decrypt(
        sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], purpose.encode()
    )
