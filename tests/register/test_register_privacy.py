"""A registrant's data export holds the register's status and their practice profile; erasing a former
member deletes the profile (its words and photo) and the relay's counts, and keeps what the register decided."""

from __future__ import annotations

from sqlalchemy import select

from portal import privacy
from portal.members import service as members
from portal.members.models import Member
from portal.register import directory, service
from portal.register.models import PracticeProfile, RegisterStatus, RelayedMessage


def test_the_export_holds_the_status_and_profile_and_erasure_deletes_the_profile(
    database, clock, registrant, admin
):
    r = registrant()
    with database.session() as s:
        directory.save_profile(
            s, member_id=r.member_id, photo=b"\xff\xd8\xffjpeg", remove_photo=False, actor=None, now=clock(),
            data=directory.ProfileData(published=True, practice_name="Hughes IPT", towns=("Leeds",),
                                       phone="0113 496 0000"),
        )  # fmt: skip
        service.set_status(
            s, member_id=r.member_id, status="removed", wording="Removed.", complaint_id=None, actor=admin,
            now=clock(),
        )  # fmt: skip
        s.add(RelayedMessage(member_id=r.member_id, client_digest="d" * 64, created_at=clock()))
        s.get(Member, r.member_id).status = "resigned"
    with database.session() as s:
        data = members.export_member_data(
            s, member_id=r.member_id, actor=admin, now=clock(), exporters=privacy.EXPORTERS
        )
        assert data["register"]["status"]["status"] == "removed"
        assert data["register"]["practice_profile"]["practice_name"] == "Hughes IPT"
        assert data["register"]["practice_profile"]["photo"] == "7 bytes"
    with database.session() as s:
        members.erase_member(s, member_id=r.member_id, actor=admin, now=clock(), erasers=privacy.ERASERS)
    with database.session(write=False) as s:
        assert s.scalar(select(PracticeProfile.id)) is None
        assert s.scalar(select(RelayedMessage.id)) is None
        assert s.scalar(select(RegisterStatus.status)) == "removed"
