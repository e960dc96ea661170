"""Two people applying the same roll at the same moment: one import wins, the other finds nothing to do."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.members import importer
from portal.members.models import Member, MemberChange


def test_two_simultaneous_imports_of_one_file_add_each_member_once(database, clock, make_roll):
    content = make_roll(
        [
            [str(2000 + i), f"p{i}@example.org", "Pat", f"Person{i}", "Basic", "active", "", ""]
            for i in range(200)
        ]
    )
    barrier = threading.Barrier(2)
    results: list[importer.ImportResult] = []
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            barrier.wait()
            with database.session() as session:
                _, result = importer.apply_import(
                    session,
                    content=content,
                    filename="roll.csv",
                    actor=None,
                    lapse_missing=False,
                    now=clock(),
                )
            results.append(result)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted((r.added, r.unchanged) for r in results) == [(0, 200), (200, 0)]
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 200
        assert session.scalar(select(func.count()).select_from(MemberChange)) == 200
