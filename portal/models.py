"""Every table of every domain, imported in one place so Alembic and `create_all` see the whole schema."""

from __future__ import annotations

from portal import audit
from portal.accounts import models as accounts_models
from portal.accounts import uploads as accounts_uploads
from portal.accreditation import models as accreditation_models
from portal.checkin import models as checkin_models
from portal.complaints import models as complaints_models
from portal.contact import models as contact_models
from portal.db import Base
from portal.elections import models as elections_models
from portal.events import models as events_models
from portal.mail import models as mail_models
from portal.members import models as members_models
from portal.membership import models as membership_models
from portal.register import models as register_models
from portal.search import models as search_models
from portal.site import models as site_models
from portal.society import models as society_models
from portal.team import models as team_models
from portal.training import models as training_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "accounts_uploads",
    "accreditation_models",
    "audit",
    "checkin_models",
    "complaints_models",
    "contact_models",
    "elections_models",
    "events_models",
    "mail_models",
    "members_models",
    "membership_models",
    "metadata",
    "register_models",
    "search_models",
    "site_models",
    "society_models",
    "team_models",
    "training_models",
]
