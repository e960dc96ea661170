"""Uploaded files, read and worked on before the request's transaction opens.

A route that takes a file declares an `UploadRule` for it (`@page(..., uploads=(RULE,))`). The guard then reads
at most `max_bytes` of it, runs the cheap `check` (a header, a first line), asks the rule's per-account allowance
in a short transaction of its own, and runs the costly `process` (decoding an image, parsing a CSV) in a worker
thread with no database session at all. The handler finds the outcome in `ctx.uploads[field]`: the processed
value, or the refusal to show beside the field. So no decode ever runs while SQLite's write lock is held
(`BEGIN IMMEDIATE` is issued at the request's first statement, before the handler runs), and a door scan never
waits for someone's photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class UploadRefused(Exception):
    """A file that is refused, with a stable code and the message to show beside its field.

    Codes: too_large, not_an_image, unsupported_format, too_many_pixels, too_many_uploads, bad_file."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UploadRule:
    """One file field of a route, and what the boundary does with it before the handler runs."""

    field: str
    max_bytes: int
    #: The message when the file is larger than `max_bytes`.
    too_large: str
    #: Work on the bytes that needs no database (decode, re-encode, parse); raises UploadRefused.
    process: Callable[[bytes], Any]
    #: A cheap look at the bytes (a header) before the allowance is counted; raises UploadRefused.
    check: Callable[[bytes], None] | None = None
    #: Uploads of this kind allowed per account per hour (None: no allowance, e.g. staff-only imports).
    per_hour: int | None = None
    #: The name the allowance is counted under, and what the refusal calls these files ("photos").
    kind: str = ""
    noun: str = "files"
    #: A text field that may carry the same content instead of a file (a previewed statement sent back).
    text_field: str = ""


@dataclass(frozen=True)
class Upload:
    """What became of one uploaded file: `value` from the rule's `process`, or `error`."""

    filename: str
    size: int
    value: Any = None
    error: UploadRefused | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
