"""The built site: every station's page, QR codes and poster, nothing third-party,
reproducible output, and a failed or repeated build that leaves the site intact."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from build_scripts.publish import build_site
from minqing.registry import RegistryError
from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY


def _decode_qr(path: Path) -> str:
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_every_active_station_has_a_page_with_the_feedback_form(built_site, sample_registry):
    for station in (s for s in sample_registry.stations if s.active):
        html = (built_site / "s" / station.id / "index.html").read_text("utf-8")
        assert station.name in html
        assert 'id="feedback"' in html and 'action="/api/submissions/form"' in html
        assert f'name="station_id" value="{station.id}"' in html


def test_retired_station_keeps_a_page_that_says_it_is_retired(built_site, sample_registry):
    retired = [s for s in sample_registry.stations if not s.active]
    assert retired
    for station in retired:
        html = (built_site / "s" / station.id / "index.html").read_text("utf-8")
        assert "本民情哨已撤销" in html
        assert 'id="feedback"' not in html


def test_every_sector_has_a_page_listing_its_active_posts(built_site, sample_registry):
    for sector in sample_registry.sectors:
        html = (built_site / "sectors" / sector.id / "index.html").read_text("utf-8")
        for station in sample_registry.stations_of(sector.id):
            assert station.name in html


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_every_station_qr_code_decodes_to_its_page_url(built_site, sample_registry, kind):
    for station in (s for s in sample_registry.stations if s.active):
        url = sample_registry.station_url(station)
        assert _decode_qr(built_site / "qr" / f"{station.id}.{kind}") == url
        assert (built_site / urlparse(url).path.lstrip("/") / "index.html").exists()


def test_every_active_station_has_a_printable_poster(built_site, sample_registry):
    everything = (built_site / "posters" / "index.html").read_text("utf-8")
    active = [s for s in sample_registry.stations if s.active]
    assert everything.count('class="poster"') == len(active)
    for station in active:
        poster = (built_site / "posters" / f"{station.id}.html").read_text("utf-8")
        for text in (station.name, "扫码说说您的感受和建议", "匿名", "有信号时再发送", station.id, "<svg"):
            assert text in poster
        # A first-ever scan with no signal opens nothing: the offline promise starts once the page is open.
        assert "页面打开后，没有信号也能先填好" in poster and "信号不好也能" not in poster
        assert "size: A4" in poster


def test_built_site_references_no_third_party_host(built_site, sample_registry):
    own = urlparse(sample_registry.site.base_url).netloc
    # Only what a browser would fetch or follow: attributes and CSS url()s.
    pattern = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//([^/"'\s>]+)|url\(\s*["']?(?:https?:)?//([^/"')]+)""", re.I)
    offenders = []
    for path in built_site.rglob("*"):
        if path.suffix not in {".html", ".css", ".js", ".json", ".webmanifest"}:
            continue
        for match in pattern.finditer(path.read_text("utf-8", errors="replace")):
            host = match.group(1) or match.group(2)
            if host != own:
                offenders.append(f"{path.relative_to(built_site)}: {host}")
    assert offenders == []


def test_station_pages_stay_out_of_the_navigation(built_site):
    html = (built_site / "index.html").read_text("utf-8")
    nav = html[html.index('<nav class="md-nav md-nav--primary"') :]
    assert "s/jintan-east-bus/" not in nav[: nav.index("</nav>")]


def test_two_builds_of_the_same_registry_are_byte_identical(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, first)
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert [p for p in files if (first / p).read_bytes() != (second / p).read_bytes()] == []


def test_rebuild_after_one_station_changed_rewrites_only_what_changed(tmp_path):
    registry = tmp_path / "stations.yml"
    shutil.copy(SAMPLE_REGISTRY, registry)
    site = tmp_path / "site"
    build_site(MKDOCS_YML, registry, site)
    assert build_site(MKDOCS_YML, registry, site).written == []

    registry.write_text(registry.read_text("utf-8").replace("候车大厅入口处", "候车大厅二号门"), "utf-8")
    report = build_site(MKDOCS_YML, registry, site)
    assert "s/jintan-east-bus/index.html" in report.written
    assert "s/hebin-primary/index.html" not in report.written
    assert not any(path.startswith("qr/") for path in report.written)
    assert "候车大厅二号门" in (site / "s/jintan-east-bus/index.html").read_text("utf-8")


def test_retiring_a_station_removes_its_qr_code_but_keeps_its_page(tmp_path):
    registry = tmp_path / "stations.yml"
    text = SAMPLE_REGISTRY.read_text("utf-8")
    registry.write_text(text, "utf-8")
    site = tmp_path / "site"
    build_site(MKDOCS_YML, registry, site)
    start = text.index("id: hebin-primary")
    end = text.index("active: true", start)
    registry.write_text(text[:end] + "active: false" + text[end + len("active: true") :], "utf-8")
    report = build_site(MKDOCS_YML, registry, site)
    assert {"qr/hebin-primary.svg", "qr/hebin-primary.png", "posters/hebin-primary.html"} <= set(report.removed)
    assert "本民情哨已撤销" in (site / "s/hebin-primary/index.html").read_text("utf-8")


def test_failed_build_leaves_the_published_site_untouched(tmp_path):
    registry = tmp_path / "stations.yml"
    shutil.copy(SAMPLE_REGISTRY, registry)
    site = tmp_path / "site"
    build_site(MKDOCS_YML, registry, site)
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    registry.write_text(registry.read_text("utf-8").replace("sector: transport", "sector: shipping", 1), "utf-8")
    with pytest.raises(RegistryError):
        build_site(MKDOCS_YML, registry, site)
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".staging")] == []


def test_service_worker_precaches_shared_assets_and_the_home_page(built_site):
    sw = (built_site / "sw.js").read_text("utf-8")
    assert "__VERSION__" not in sw and "/*PRECACHE*/" not in sw
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", sw).group(1))
    assert {"./", "js/kiosk.js", "js/seal.js", "js/outbox.js", "js/sync.js"} <= set(precache)
    assert [url for url in precache if url.startswith(("s/", "posters/", "qr/", "sectors/"))] == []
    # Station pages carry form.js inline and no module imports it: never fetched, not precached.
    assert "js/form.js" not in precache


def test_station_pages_carry_the_forms_modules_inline_with_their_csp_hash(built_site):
    from build_scripts.precache import inline_script_hashes

    html = (built_site / "s" / "hebin-primary" / "index.html").read_text("utf-8")
    assert 'src="../../js/form.js"' not in html and "modulepreload" not in html
    # The form's modules, then the 你说我办 list's (js/public.js), each a script of its own.
    [inline, public] = re.findall(r'<script type="module" async>.*?</script>', html, re.S)
    for module in ("outbox.js", "sync.js", "receipt.js", "form.js"):
        assert f"// js/{module}" in inline
    assert "// js/public.js" in public and 'src="../../js/public.js"' not in html
    assert "// js/kiosk.js" not in inline and "// js/seal.js" not in inline  # loaded only when needed
    csp = json.loads((built_site / "csp.json").read_text("utf-8"))["script-src"]
    assert inline_script_hashes(inline) | inline_script_hashes(public) <= set(csp)


def test_pages_carry_their_styles_inline_so_first_paint_needs_one_round_trip(built_site):
    for page in ("index.html", "s/hebin-primary/index.html", "sectors/transport/index.html"):
        html = (built_site / page).read_text("utf-8")
        assert '<link rel="stylesheet"' not in html
        assert ".md-header{" in html and ".mq-feedback" in html


def test_chat_png_names_the_station_and_sector_under_a_code_that_still_scans(built_site, tmp_path):
    from build_scripts.qr import cjk_font, qr_images

    if cjk_font() is None:
        pytest.skip("no CJK font on this machine: make setup installs fonts-droid-fallback")
    import io

    from PIL import Image

    bare_svg, bare = qr_images("https://minqing.example.cn/s/x/")
    labelled = qr_images("https://minqing.example.cn/s/x/", ("儒林镇工业园区", "社会治安领域  民情哨"), cjk_font())[1]
    plain, card = Image.open(io.BytesIO(bare)), Image.open(io.BytesIO(labelled))
    assert bare_svg.startswith(b"<?xml")
    assert plain.width == plain.height and card.width == plain.width and card.height > plain.height + 40
    # The band under the code holds dark pixels (the words); a bare code has none there.
    band = card.convert("L").crop((0, plain.height, card.width, card.height))
    assert band.getextrema()[0] < 100
    built = built_site / "qr" / "rulin-industrial-park.png"
    with Image.open(built) as image:
        assert image.height > image.width
    assert _decode_qr(built).endswith("/s/rulin-industrial-park/")


def test_the_receipt_look_up_and_the_form_post_to_the_configured_api_host(tmp_path, built_site):
    assert 'action="../api/receipts/lookup"' in (built_site / "status" / "index.html").read_text("utf-8")
    registry = tmp_path / "stations.yml"
    registry.write_text(SAMPLE_REGISTRY.read_text("utf-8").replace('api_base: ""', 'api_base: "https://api.example.org"'), "utf-8")
    site = tmp_path / "site"
    build_site(MKDOCS_YML, registry, site)
    assert 'action="https://api.example.org/api/receipts/lookup"' in (site / "status" / "index.html").read_text("utf-8")
    assert 'action="https://api.example.org/api/submissions/form"' in (site / "s/jintan-east-bus/index.html").read_text("utf-8")
