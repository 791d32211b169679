"""QR codes for station posters: SVG for print, PNG for messaging apps.

Pure functions from a URL (and, for the PNG, the words under the code) to bytes. The
chat PNG carries the station's name and sector under the code, so a forwarded image
still says which post it opens; it is drawn with Pillow and a CJK font found through
fontconfig (Debian's fonts-droid-fallback is enough). Error correction level M survives a scuffed
poster; the quiet zone of four modules is what scanners need. Making a code is the
slowest build step (about 10 ms a station), so `QrCache` keeps each pair by the exact
URL and library version it encodes: a rebuild only makes the codes that changed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import subprocess
from importlib.metadata import version
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

from build_scripts.files import replace_file

__all__ = ["QrCache", "cjk_font", "qr_images"]

PNG_BOX = 8


# Tried after fontconfig, in order: common CJK fonts on Debian.
_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@functools.cache
def cjk_font() -> str | None:
    """A font file that has Chinese glyphs, or None."""
    try:
        found = subprocess.run(["fc-list", ":lang=zh-cn", "file"], capture_output=True, text=True, timeout=10).stdout
        candidates = [line.split(":")[0].strip() for line in found.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        candidates = []
    for path in [*sorted(candidates), *_FONT_FILES]:
        if Path(path).is_file():
            return path
    return None


def _labelled(png: bytes, lines: tuple[str, ...], font_path: str | None) -> bytes:
    """The code with `lines` centred beneath it; the bare code without a CJK font."""
    if not lines or font_path is None:
        return png
    from PIL import Image, ImageDraw, ImageFont

    code = Image.open(io.BytesIO(png)).convert("L")
    width = code.width
    sizes = [max(16, width // 11), max(14, width // 15)]
    fonts = [ImageFont.truetype(font_path, sizes[min(i, 1)]) for i in range(len(lines))]
    heights = [f.getbbox("国")[3] + 12 for f in fonts]
    card = Image.new("L", (width, code.height + sum(heights) + PNG_BOX * 3), 255)
    card.paste(code, (0, 0))
    draw = ImageDraw.Draw(card)
    y = code.height
    for line, font, height in zip(lines, fonts, heights, strict=True):
        # A long name shrinks to fit rather than run off the card.
        while font.getlength(line) > width - 2 * PNG_BOX and font.size > 10:
            font = font.font_variant(size=font.size - 1)
        draw.text(((width - font.getlength(line)) / 2, y), line, fill=0, font=font)
        y += height
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_images(url: str, label: tuple[str, ...] = (), font_path: str | None = None) -> tuple[bytes, bytes]:
    """The (SVG, PNG) pair encoding `url`, from one QR matrix; `label` under the PNG's code."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    svg, png = io.BytesIO(), io.BytesIO()
    code.make_image(image_factory=SvgPathImage).save(svg)
    code.box_size = PNG_BOX
    code.make_image(image_factory=PyPNGImage).save(png)
    return svg.getvalue(), _labelled(png.getvalue(), label, font_path)


class QrCache:
    """`qr_images` memoized on disk, keyed by URL, label, font and library versions."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.salt = f"qrcode-{version('qrcode')}-pillow-{version('pillow')}-box{PNG_BOX}-M"

    def __call__(self, url: str, label: tuple[str, ...] = (), font_path: str | None = None) -> tuple[bytes, bytes]:
        key = hashlib.sha256("\0".join([self.salt, url, *label, font_path or ""]).encode()).hexdigest()
        svg_path, png_path = self.folder / f"{key}.svg", self.folder / f"{key}.png"
        try:
            return svg_path.read_bytes(), png_path.read_bytes()
        except FileNotFoundError:
            pass
        svg, png = qr_images(url, label, font_path)
        replace_file(svg_path, svg)
        replace_file(png_path, png)
        return svg, png
