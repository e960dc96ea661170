"""Candidate photos: checked and re-encoded by Pillow, so no metadata (location, camera, the original file's
bytes) survives, and what is stored is a modest JPEG whatever was uploaded."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from portal.elections.errors import ElectionError

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 800
#: Refuse images that decompress to more than this many pixels (a small file can hide a huge image).
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG"}


def reencode(data: bytes) -> bytes:
    """A clean JPEG of at most 800 by 800 pixels, or ElectionError('bad_photo')."""
    if len(data) > MAX_BYTES:
        raise ElectionError("bad_photo", "The photo must be 2 MB or smaller.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ElectionError("bad_photo", "The photo must be a JPEG or PNG file.")
            if image.width * image.height > MAX_PIXELS:
                raise ElectionError("bad_photo", "The photo is too large in pixels; use a smaller one.")
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ElectionError("bad_photo", "The photo could not be read. Use a JPEG or PNG file.") from None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    else:
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
