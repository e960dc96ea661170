"""Attachments: images (JPEG, PNG) and PDFs a page links to, checked before the request's transaction opens
(`ATTACHMENT`, see portal/web/uploads.py), and the headers they are served with.

The type is read from the file's first bytes, never from its name or the browser's word. Images are decoded
within a pixel limit and re-encoded, so what is served is a clean image with no metadata (a phone photo's
location) and never something else dressed as one. A PDF must start and end as one, and one that carries
JavaScript or launches actions is refused.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from PIL import Image, ImageOps

from portal.web.forms import FormReader
from portal.web.uploads import Upload, UploadRefused, UploadRule

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 24_000_000
#: Images wider or taller than this are scaled down (a page never shows more).
MAX_SIDE = 2000
_PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia")
_OTHER = (
    (0, b"GIF8", "a GIF"),
    (8, b"WEBP", "a WebP image"),
    (0, b"<svg", "an SVG"),
    (0, b"<?xml", "an XML or SVG file"),
    (0, b"PK\x03\x04", "a Word, Excel or zip file"),
    (0, b"\xd0\xcf\x11\xe0", "an old Word or Excel file"),
    (4, b"ftyp", "a HEIC photo or a video"),
)
TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF"}
ACCEPT = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"


@dataclass(frozen=True)
class CleanFile:
    content_type: str
    data: bytes
    extension: str


def _kind(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    for offset, magic, name in _OTHER:
        if data[offset : offset + len(magic)] == magic:
            raise UploadRefused(
                "unsupported_format", f"The file is {name}. Upload a JPEG or PNG image, or a PDF."
            )
    raise UploadRefused(
        "unsupported_format", "The file is not a JPEG or PNG image or a PDF. Upload one of those."
    )


def check_file(data: bytes) -> None:
    """The cheap checks: size and the first bytes."""
    if len(data) > MAX_BYTES:
        raise UploadRefused("too_large", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise UploadRefused("bad_file", "The file is empty. Choose the file again.")
    _kind(data)


def _clean_pdf(data: bytes) -> CleanFile:
    if b"%%EOF" not in data[-1024:]:
        raise UploadRefused(
            "bad_file", "The PDF is cut short (it has no end). Save it again and upload that."
        )
    if any(marker in data for marker in _PDF_ACTIVE):
        raise UploadRefused(
            "bad_file",
            "The PDF holds scripts, embedded files or actions. Print it to a new PDF (File, Print, Save as PDF) "
            "and upload that.",
        )
    return CleanFile("application/pdf", data, "pdf")


def _clean_image(data: bytes, content_type: str) -> CleanFile:
    fmt = TYPES[content_type]
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=(fmt,))
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UploadRefused(
            "too_many_pixels",
            f"The image is larger than {MAX_PIXELS // 1_000_000} megapixels. Save a smaller copy and upload that.",
        ) from None
    except Exception:  # a damaged file makes the decoders raise OSError, ValueError, EOFError...
        raise UploadRefused("not_an_image", "The image is damaged or cut short and cannot be read.") from None
    picture: Image.Image = ImageOps.exif_transpose(image)
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "JPEG":
        picture.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        return CleanFile("image/jpeg", out.getvalue(), "jpg")
    if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    picture.save(out, format="PNG", optimize=True)
    return CleanFile("image/png", out.getvalue(), "png")


def clean_file(data: bytes) -> CleanFile:
    """The file as it will be stored and served, or UploadRefused."""
    check_file(data)
    content_type = _kind(data)
    if content_type == "application/pdf":
        return _clean_pdf(data)
    return _clean_image(data, content_type)


ATTACHMENT = UploadRule(
    field="file",
    max_bytes=MAX_BYTES,
    too_large=f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Upload a smaller one.",
    check=check_file,
    process=clean_file,
    noun="files",
)


@dataclass(frozen=True)
class Evidence:
    """A file of evidence someone sent (a certificate, a log), already checked and cleaned (`clean_file`)."""

    filename: str
    content_type: str
    content: bytes


def evidence_rule(field: str) -> UploadRule:
    """An evidence file: a PDF, JPEG or PNG of at most 8 MB, checked and cleaned as the site's attachments
    are (the type from the bytes, images re-encoded without metadata, active PDFs refused). Membership
    applications and accreditation (applications, CPD entries) take their evidence by this one rule."""
    return UploadRule(
        field=field,
        max_bytes=MAX_BYTES,
        too_large=f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Upload a smaller one.",
        check=check_file,
        process=clean_file,
    )


def evidence_rules(fields: Sequence[str]) -> tuple[UploadRule, ...]:
    return tuple(evidence_rule(field) for field in fields)


def evidence_of(
    uploads: Mapping[str, Upload | Any], fields: Sequence[str], form: FormReader
) -> list[Evidence]:
    """The evidence files a form sent, in field order; a refused one puts its message beside its field."""
    found = []
    for field in fields:
        upload = uploads.get(field)
        if upload is None:
            continue
        if upload.error is not None:
            form.error(field, upload.error.message)
            continue
        clean: CleanFile = upload.value
        found.append(
            Evidence(
                filename=safe_filename(upload.filename or "evidence", clean.extension),
                content_type=clean.content_type,
                content=clean.data,
            )
        )
    return found


def safe_filename(name: str, extension: str) -> str:
    """A filename for the address and the download: ASCII letters, digits, dots, hyphens; the right extension."""
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip("-.")[:80] or "file"
    return f"{cleaned}.{extension}"


def headers(filename: str, content_type: str, *, public: bool) -> dict[str, str]:
    """How a file is served: its own type, never sniffed; images shown in the page, PDFs downloaded (a
    document opened in the browser's viewer runs under this site's address); cached when the page is public."""
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=3600" if public else "private, no-store",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    }
