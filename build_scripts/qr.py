"""QR codes for station posters: SVG for print, PNG for messaging apps.

Pure functions from a URL to bytes. Error correction level M survives a scuffed
poster; the quiet zone of four modules is what scanners need. Making a code is the
slowest build step (about 10 ms a station), so `QrCache` keeps each pair by the exact
URL and library version it encodes: a rebuild only makes the codes that changed.
"""

from __future__ import annotations

import hashlib
import io
from importlib.metadata import version
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

from .files import replace_file

__all__ = ["QrCache", "qr_images"]

PNG_BOX = 8


def qr_images(url: str) -> tuple[bytes, bytes]:
    """The (SVG, PNG) pair encoding `url`, from one QR matrix."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    svg, png = io.BytesIO(), io.BytesIO()
    code.make_image(image_factory=SvgPathImage).save(svg)
    code.box_size = PNG_BOX
    code.make_image(image_factory=PyPNGImage).save(png)
    return svg.getvalue(), png.getvalue()


class QrCache:
    """`qr_images` memoized on disk, keyed by URL and qrcode version."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.salt = f"qrcode-{version('qrcode')}-box{PNG_BOX}-M"

    def __call__(self, url: str) -> tuple[bytes, bytes]:
        key = hashlib.sha256(f"{self.salt}\0{url}".encode()).hexdigest()
        svg_path, png_path = self.folder / f"{key}.svg", self.folder / f"{key}.png"
        try:
            return svg_path.read_bytes(), png_path.read_bytes()
        except FileNotFoundError:
            pass
        svg, png = qr_images(url)
        replace_file(svg_path, svg)
        replace_file(png_path, png)
        return svg, png
