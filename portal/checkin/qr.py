"""QR images of badge codes, as PNG (e-mail, PDF) and SVG (pages; sharp at any size)."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
from PIL import Image

#: The mask every badge uses. Choosing the "best" of the eight masks means drawing the symbol eight times and
#: scoring each in pure Python: 24 ms a badge, against 3 ms with the mask fixed. Any mask is a valid symbol that
#: every reader decodes (the standard only recommends the best-scoring one, against blocks that could look like
#: finder patterns). Over 30 random badge codes mask 2 scores best on average (a penalty of 643, against 586 for
#: each code's own best and 760 for the worst mask), and the tests decode each drawing with ZXing.
MASK_PATTERN = 2


def _symbol(code: str, *, box_size: int = 8, border: int = 4) -> qrcode.QRCode:
    """Level M survives a crease or a scuffed phone screen; alphanumeric mode keeps the symbol small
    (the code is all upper-case base32 plus `:`, which the library detects)."""
    symbol = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size,
        border=border,
        mask_pattern=MASK_PATTERN,
    )
    symbol.add_data(code, optimize=0)
    symbol.make(fit=True)
    return symbol


def png(code: str, *, box_size: int = 8) -> bytes:
    image = _symbol(code, box_size=box_size).make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pil_image(code: str, *, box_size: int = 8) -> Image.Image:
    """A greyscale Pillow image (for the PDF layout and the tests)."""
    image = _symbol(code, box_size=box_size).make_image(fill_color="black", back_color="white")
    return image.get_image().convert("L")


def svg(code: str) -> bytes:
    """A standalone SVG with one path; it scales to its box (the page sets the size)."""
    image = _symbol(code, box_size=10).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def version(code: str) -> int:
    """The QR version (size) a code needs; tests keep codes small enough to scan from a phone."""
    return int(_symbol(code).version)
