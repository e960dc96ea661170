"""Candidate photos: checked and re-encoded by Pillow, so no metadata (location, camera, the original file's
bytes) survives, and what is stored is a modest JPEG whatever was uploaded.

The work is bounded before it starts: the file's bytes (2 MB), then its pixels, read from the header before
anything is decoded (a 170 KB PNG can claim 40 megapixels and take 360 MB to decode). A large JPEG is decoded
at a reduced scale (`draft`), so even an allowed 12-megapixel photo costs a fraction of its full size. The
route runs all this before the request's transaction opens (`NOMINATION_PHOTO`, see portal/web/uploads.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from portal.web.uploads import UploadRefused, UploadRule

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 800
#: Refuse images that decode to more than this many pixels (a small file can hide a huge image).
MAX_PIXELS = 12_000_000
#: Photos an account may upload in an hour (each one is decoded, whatever becomes of the nomination).
PER_HOUR = 10
ACCEPTED_FORMATS = ("JPEG", "PNG")
#: Other formats, recognised by their first bytes, to say what was sent instead of "not an image".
_OTHER_FORMATS = (
    (0, b"GIF8", "GIF"),
    (8, b"WEBP", "WebP"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"%PDF", "PDF"),
    (0, b"<svg", "SVG"),
    (0, b"<?xml", "SVG"),
)


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded JPEG of at most 800 by 800 pixels: the only kind of photo a nomination stores."""

    jpeg: bytes
    width: int
    height: int


def _refuse_pixels(image: Image.Image | None) -> UploadRefused:
    size = f"{image.width} by {image.height} pixels, " if image is not None else ""
    return UploadRefused(
        "too_many_pixels",
        f"The photo is too large in pixels ({size}more than {MAX_PIXELS // 1_000_000} megapixels). Save a "
        "smaller copy (800 by 800 pixels is plenty) and upload that.",
    )


def _open(data: bytes) -> Image.Image:
    """The image with only its header read, or UploadRefused."""
    if len(data) > MAX_BYTES:
        raise UploadRefused("too_large", f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    # Pillow's own guard is process-wide: it warns past MAX_IMAGE_PIXELS and refuses past twice that, at open.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        image = None
    except Exception:  # UnidentifiedImageError, or whatever a malformed header makes a plugin raise
        for offset, magic, name in _OTHER_FORMATS:
            if data[offset : offset + len(magic)] == magic:
                raise UploadRefused(
                    "unsupported_format", f"The photo is a {name} file. Upload a JPEG or PNG photo."
                ) from None
        raise UploadRefused(
            "not_an_image", "The file is not a picture that can be read. Upload a JPEG or PNG photo."
        ) from None
    if image is None or image.width * image.height > MAX_PIXELS:
        raise _refuse_pixels(image)
    return image


def check_photo(data: bytes) -> None:
    """The cheap checks (bytes, format, pixels from the header): a refusal costs no decoding."""
    _open(data).close()


def clean_photo(data: bytes) -> CleanPhoto:
    """A clean JPEG of at most 800 by 800 pixels, or UploadRefused."""
    image = _open(data)
    try:
        if image.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 of the size, still no smaller than the photo will be stored (at most
            # 800 pixels on its longer side): far less memory and time.
            ratio = max(image.width, image.height) / MAX_SIDE
            if ratio > 1:
                image.draft("RGB", (int(image.width / ratio), int(image.height / ratio)))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        else:
            image = image.convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85, optimize=True)
    except (
        Exception
    ):  # a damaged file makes the decoders raise OSError, ValueError, EOFError, struct.error...
        raise UploadRefused(
            "not_an_image",
            "The photo is damaged or cut short and cannot be read. Upload another JPEG or PNG.",
        ) from None
    return CleanPhoto(jpeg=out.getvalue(), width=image.width, height=image.height)


#: The photo field of the nomination form, for its route's guard.
NOMINATION_PHOTO = UploadRule(
    field="photo",
    max_bytes=MAX_BYTES,
    too_large=f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB. Upload a smaller one.",
    check=check_photo,
    process=clean_photo,
    per_hour=PER_HOUR,
    kind="photo",
    noun="photos",
)
