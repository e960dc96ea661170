"""Every table of every domain, imported in one place so Alembic and `create_all` see the whole schema."""

from __future__ import annotations

from portal.accounts import models as accounts_models
from portal.db import Base

metadata = Base.metadata

__all__ = ["accounts_models", "metadata"]
