"""Approvals at the same moment: membership numbers and invoice numbers stay gap-free, and one application is
approved once however many of the office press the button together (both engines)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from portal.events.models import Invoice
from portal.members.models import Member
from portal.membership import service
from portal.membership.errors import MembershipError


def _together(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results.append(work(index))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _applications(database, clock, key, links, draft, count: int) -> list[int]:
    ids = []
    with database.session() as session:
        for i in range(count):
            application = service.submit_application(
                session,
                category_code="basic",
                draft=draft(email=f"a{i}@example.org", first_name=f"A{i}"),
                files=[],
                ip=f"192.0.2.{i}",
                now=clock(),
                key=key,
                links=links,
            )
            assert application is not None
            ids.append(application.id)
    return ids


def test_approvals_at_the_same_moment_take_consecutive_numbers_and_a_failed_one_gives_its_back(
    database, clock, key, links, draft, admin
):
    ids = _applications(database, clock, key, links, draft, 6)

    def approve(index: int) -> str:
        with database.session() as session:
            service.approve(
                session, application_id=ids[index], actor=admin, now=clock(), key=key, links=links
            )
            number = session.scalar(
                select(Member.membership_number).where(Member.email == f"a{index}@example.org")
            )
            if index == 5:
                raise RuntimeError("the request failed after approving: everything it did is undone")
            return str(number)

    results, errors = _together(6, approve)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert sorted(int(n) for n in results) == [1, 2, 3, 4, 5]
    with database.session(write=False) as session:
        numbers = sorted(int(n) for n in session.scalars(select(Member.membership_number)))
        invoice_numbers = sorted(session.scalars(select(Invoice.number)))
    assert numbers == [1, 2, 3, 4, 5]
    assert invoice_numbers == [1, 2, 3, 4, 5]


def test_two_of_the_office_approving_one_application_at_once_approve_it_once(
    database, clock, key, links, draft, admin
):
    [application_id] = _applications(database, clock, key, links, draft, 1)

    def approve(_index: int) -> None:
        with database.session() as session:
            service.approve(
                session, application_id=application_id, actor=admin, now=clock(), key=key, links=links
            )

    _results, errors = _together(2, approve)
    assert len(errors) == 1 and isinstance(errors[0], MembershipError)
    assert errors[0].code == "wrong_application_status"
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1
