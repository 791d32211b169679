"""Volunteer sheets: the way into kiosk mode, printed by the office, never published.

The office lists its tablets in a file of its own (`kiosk-tablets.yml` beside the
registry, never inside the site): which post, the tablet's name, and a PIN. For each
tablet, `minqing build` writes a sheet whose QR code opens the post's page with
`#kiosk=<tablet>.<pin digest>`. The fragment never reaches a server, the published
site holds nothing of it, and the PIN itself is on no sheet: the office tells it to the
post chief. The digest is PBKDF2 (the same as js/kiosk.js), which slows a search but
cannot hide a short PIN from someone who holds the sheet or the tablet's storage.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

import yaml

from build_scripts.files import replace_file
from build_scripts.qr import qr_images
from minqing.registry import Registry, RegistryError

__all__ = ["Tablet", "load_tablets", "pin_digest", "kiosk_url", "volunteer_sheets", "write_volunteer_sheets"]

PIN_ITERATIONS = 100_000  # the same as PIN_ITERATIONS in js/kiosk.js
TABLET = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
PIN = re.compile(r"[0-9]{4,12}\Z")
TABLETS_FILE = "kiosk-tablets.yml"


@dataclass(frozen=True)
class Tablet:
    station: str
    name: str
    pin: str


def pin_digest(station: str, tablet: str, pin: str) -> str:
    salt = f"minqing-kiosk:{station}:{tablet}".encode()
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS).hex()


def kiosk_url(registry: Registry, tablet: Tablet) -> str:
    station = registry.station(tablet.station)
    return f"{registry.station_url(station)}#kiosk={tablet.name}.{pin_digest(tablet.station, tablet.name, tablet.pin)}"


def load_tablets(path: Path, registry: Registry) -> list[Tablet]:
    """The office's tablet list; every mistake stops the build with one sentence."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RegistryError(where, None, f"the tablet list cannot be read ({exc.__class__.__name__}).") from None
    entries = data.get("tablets") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(where, None, "the tablet list must be a mapping with a 'tablets' list.")
    tablets, names = [], set()
    for number, entry in enumerate(entries, 1):
        what = f"tablet {number}"
        if not isinstance(entry, dict):
            raise RegistryError(where, None, f"{what} must be a mapping with station, name and pin.")
        station, name, pin = (str(entry.get(k, "")).strip() for k in ("station", "name", "pin"))
        if not registry.station(station):
            raise RegistryError(where, None, f"{what} names the unknown station '{station}'.")
        if not TABLET.match(name):
            raise RegistryError(where, None, f"{what}: name must be 1-64 letters, digits, '-' or '_'.")
        if name in names:
            raise RegistryError(where, None, f"{what}: the name '{name}' is used twice.")
        if not PIN.match(pin):
            raise RegistryError(where, None, f"{what} ('{name}'): pin must be 4 to 12 digits, quoted.")
        names.add(name)
        tablets.append(Tablet(station, name, pin))
    return tablets


STYLE = """\
@page { size: A4; margin: 15mm; }
html, body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #111; }
.sheet { page-break-after: always; break-after: page; }
.sheet:last-child { page-break-after: auto; break-after: auto; }
.secret { color: #b71c1c; font-weight: bold; }
.qr { width: 90mm; height: 90mm; }
.qr svg { width: 100%; height: 100%; }
li { margin: 2mm 0; }
"""


def _sheet(registry: Registry, tablet: Tablet, svg: bytes) -> str:
    station = registry.station(tablet.station)
    e = escape
    return f"""<section class="sheet">
<p class="secret">志愿者专用 · 不要张贴，不要给群众扫描，不要拍照发群</p>
<h1>{e(station.name)} · 志愿者平板</h1>
<p>平板名：<b>{e(tablet.name)}</b>　哨点：{e(station.name)}（{e(station.town)}）</p>
<div class="qr">{svg.decode()}</div>
<ol>
<li>用这台平板的浏览器扫描上面的二维码，打开本哨点的页面。</li>
<li>输入{e(registry.site.office)}另行告知的<b>志愿者密码（PIN）</b>，开启志愿者模式。页面只留下意见表，每位群众提交后自动清空。</li>
<li>右下角“志愿者”按钮：输入密码后可以看待发送的记录、立即同步、看未能发送的记录、导出记录、退出志愿者模式。</li>
<li>收班后联网，打开志愿者面板按“立即同步”，直到待发送为 0、没有未能发送的记录。</li>
<li>导出的文件里有群众的原话和电话号码，只能交给{e(registry.site.office)}。</li>
</ol>
<p>建议在平板上开启“屏幕固定”（安卓）或“引导式访问”（iPad），让群众无法离开这个页面。</p>
</section>"""


def volunteer_sheets(registry: Registry, tablets: list[Tablet], qr=qr_images) -> dict[str, str]:
    """`{file name: HTML}`: one sheet per tablet and `index.html` printing them all."""
    sheets = {t.name: _sheet(registry, t, qr(kiosk_url(registry, t))[0]) for t in tablets}

    def page(title: str, body: str) -> str:
        return (
            f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="robots" content="noindex"><style>{STYLE}</style></head><body>{body}</body></html>\n'
        )

    out = {f"{name}.html": page(f"志愿者平板 {name}", html) for name, html in sheets.items()}
    out["index.html"] = page("志愿者平板（全部）", "\n".join(sheets.values()) or "<p>没有登记平板。</p>")
    return out


def write_volunteer_sheets(registry: Registry, tablets_file: Path, out_dir: Path) -> int:
    """Write the sheets (private: 0700 folder, 0600 files); answers how many tablets."""
    tablets = load_tablets(tablets_file, registry)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    pages = volunteer_sheets(registry, tablets)
    for old in out_dir.glob("*.html"):
        if old.name not in pages:
            old.unlink()
    for name, html in pages.items():
        replace_file(out_dir / name, html.encode())
        os.chmod(out_dir / name, 0o600)
    return len(tablets)


def publish_sheets(
    config_file: Path, registry_file: Path | None, site_dir: Path | None, tablets_file: Path | None
) -> tuple[int, Path] | None:
    """The build's step for sheets: beside the site folder (never inside it, never
    served), from `tablets_file` or `kiosk-tablets.yml` beside the registry if present."""
    from build_scripts.publish import _registry_of
    from minqing.registry import load_registry

    config_file = Path(config_file).resolve()
    registry_path = _registry_of(config_file, registry_file)
    if tablets_file is None:
        tablets_file = registry_path.parent / TABLETS_FILE
        if not tablets_file.exists():
            return None
    if site_dir is None:
        raw = yaml.load(config_file.read_text("utf-8"), Loader=yaml.BaseLoader)  # noqa: S506
        site_dir = config_file.parent / raw.get("site_dir", "build/site")
    out_dir = Path(site_dir).resolve().parent / "volunteer"
    return write_volunteer_sheets(load_registry(registry_path), tablets_file, out_dir), out_dir
