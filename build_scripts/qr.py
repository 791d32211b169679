"""QR codes for station posters: SVG for print, PNG for messaging apps.

Pure functions from a URL to bytes. Error correction level M survives a scuffed
poster; the quiet zone of four modules is what scanners need.
"""

from __future__ import annotations

import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

__all__ = ["qr_svg", "qr_png"]


def _code(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    _code(url).make_image(image_factory=SvgPathImage).save(out)
    return out.getvalue()


def qr_png(url: str, box_size: int = 8) -> bytes:
    code = _code(url)
    code.box_size = box_size
    out = io.BytesIO()
    code.make_image(image_factory=PyPNGImage).save(out)
    return out.getvalue()
