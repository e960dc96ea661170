"""Badge codes: signed, compact, QR-alphanumeric, and refused when forged, edited, or for another event."""

from __future__ import annotations

import base64

import pytest

from portal.checkin import badges, qr

KEY = b"badge-test-secret-key-that-is-long-enough"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _raw(code: str) -> bytearray:
    body = code[len(badges.PREFIX) :]
    return bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))


def _encode(raw: bytes) -> str:
    return badges.PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


def test_a_code_round_trips_to_its_booking_event_and_serial():
    code = badges.issue(KEY, registration_id=123456, event_id=42, serial=3)
    assert badges.verify(KEY, code) == badges.BadgeClaim(registration_id=123456, event_id=42, serial=3)


def test_a_code_is_in_the_qr_alphanumeric_set_and_small():
    code = badges.issue(KEY, registration_id=2**31 - 1, event_id=99999, serial=1000)
    assert code.startswith("B1:")
    assert set(code) <= QR_ALPHANUMERIC
    assert len(code) <= 125
    assert qr.version(code) <= 6


def test_a_scanner_that_lowercases_or_adds_spaces_still_reads_the_code():
    code = badges.issue(KEY, registration_id=7, event_id=1, serial=1)
    assert badges.verify(KEY, f"  {code.lower()[:20]} {code.lower()[20:]}\n").registration_id == 7


def test_a_forged_signature_is_refused():
    raw = _raw(badges.issue(KEY, registration_id=7, event_id=1, serial=1))
    raw[-1] ^= 0x01
    with pytest.raises(badges.BadCode):
        badges.verify(KEY, _encode(raw))


def test_a_code_signed_with_another_secret_is_refused():
    code = badges.issue(b"someone-elses-secret-key-0123456789", registration_id=7, event_id=1, serial=1)
    with pytest.raises(badges.BadCode):
        badges.verify(KEY, code)


def test_an_edited_payload_is_refused():
    raw = _raw(badges.issue(KEY, registration_id=7, event_id=1, serial=1))
    raw[0] = 8  # registration 7 -> 8, signature unchanged
    with pytest.raises(badges.BadCode):
        badges.verify(KEY, _encode(raw))


def test_a_code_checked_with_another_events_key_is_refused():
    code = badges.issue(KEY, registration_id=7, event_id=1, serial=1)
    assert badges.verify(KEY, code, event_id=1).event_id == 1
    with pytest.raises(badges.BadCode):
        badges.verify(KEY, code, event_id=2)


def test_each_event_has_its_own_key_pair():
    assert badges.public_key_bytes(KEY, 1) != badges.public_key_bytes(KEY, 2)
    assert len(badges.public_key_bytes(KEY, 1)) == 32


@pytest.mark.parametrize(
    "text",
    [
        "",
        "B1:",
        "B2:AAAA",
        "hello world",
        "B1:AAAA1AAA",  # 1 is not base32
        "B1:AAAAAAAA=",  # padding is not part of a code
        "B1:" + "A" * 300,
        "B1:" + base64.b32encode(b"\x07\x01\x01").decode().rstrip("="),  # no signature
    ],
)
def test_text_that_is_not_a_badge_code_is_refused(text):
    with pytest.raises(badges.BadCode):
        badges.verify(KEY, text)


def test_a_non_canonical_base32_spelling_of_a_real_code_is_refused():
    code = badges.issue(KEY, registration_id=7, event_id=1, serial=1)
    last = code[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    # Flip a bit that base32 decoding drops (the unused low bits of the last character).
    twin = code[:-1] + alphabet[alphabet.index(last) ^ 1]
    assert twin != code
    with pytest.raises(badges.BadCode):
        badges.verify(KEY, twin)


def test_the_fingerprint_names_a_code_without_keeping_it():
    code = badges.issue(KEY, registration_id=7, event_id=1, serial=1)
    assert badges.fingerprint(code) == badges.fingerprint(code.lower())
    assert len(badges.fingerprint(code)) == 32
    assert code not in badges.fingerprint(code)
