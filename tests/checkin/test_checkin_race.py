"""Two doors scanning one badge at the same instant: one `ok`, one `already_checked_in`, on every engine."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.checkin.models import CheckInScan
from portal.checkin.scans import Scan, Scanner, check_in


def _race(database, key, place, code, nonces, now):
    barrier = threading.Barrier(len(nonces))
    answers: dict[str, str] = {}
    errors: list[BaseException] = []

    def door(name: str, nonce: str) -> None:
        session = database.new_session(write=True)
        try:
            barrier.wait(timeout=10)
            answer = check_in(
                session,
                key=key,
                place=place,
                scanner=Scanner(door=name),
                scan=Scan(nonce=nonce, code=code),
                now=now,
            )
            session.commit()
            answers[name] = answer.status
        except BaseException as exc:
            errors.append(exc)
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=door, args=(f"Door {i}", n)) for i, n in enumerate(nonces)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return sorted(answers.values())


def test_two_doors_scanning_one_badge_at_once_admit_it_once(database, key, conference, place, clock):
    for round_ in range(5):
        # A fresh badge each round (a reissue would do; two people alternate here), so each round is a real race.
        who = ["alice", "bob"][round_ % 2]
        with database.session() as s:
            s.execute(CheckInScan.__table__.delete())
        results = _race(database, key, place, conference.code(who), [f"r{round_}a", f"r{round_}b"], clock())
        assert results == ["already_checked_in", "ok"]
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).where(CheckInScan.admission_key.is_not(None))) == 1


def test_four_doors_at_once_still_admit_once(database, key, conference, place, clock):
    results = _race(database, key, place, conference.code("bob"), ["w", "x", "y", "z"], clock())
    assert results == ["already_checked_in"] * 3 + ["ok"]
