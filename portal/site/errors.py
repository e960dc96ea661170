"""The error codes of the website's pages."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code the site domain raises."""

    BAD_SLUG = "bad_slug"
    RESERVED_SLUG = "reserved_slug"
    PATH_TAKEN = "path_taken"
    BAD_PARENT = "bad_parent"
    BAD_LINK = "bad_link"
    HAS_CHILDREN = "has_children"
    STALE = "stale"
    NO_SUCH_REVISION = "no_such_revision"
    UNCHANGED = "unchanged"
    BAD_STATUS = "bad_status"
    BAD_KIND = "bad_kind"
    SLUG_TAKEN = "slug_taken"
    NO_TITLE = "no_title"
    BAD_OLD_PATH = "bad_old_path"
    BAD_TARGET = "bad_target"
