"""Build speed: the 25-station sample, a generated 1,000-station registry, and a
rebuild after one station changed. Each is a whole `minqing build` process."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import MKDOCS_YML, SAMPLE_REGISTRY

REPEAT = 3
TOWNS = ["东城街道", "西城街道", "尧塘街道", "金城镇", "儒林镇", "直溪镇", "朱林镇", "薛埠镇", "指前镇"]


def generated_registry(count: int) -> str:
    text = SAMPLE_REGISTRY.read_text("utf-8")
    head = text[: text.index("\nstations:")]
    sectors = re.findall(r"\{id: ([a-z-]+), name:", head)
    rows = [
        f"  - {{id: post-{n:04d}, name: 测试哨点{n}, sector: {sectors[n % len(sectors)]}, "
        f"town: {TOWNS[n % len(TOWNS)]}, place: 第{n}号位置, chief: 志愿者{n}, active: true}}"
        for n in range(count)
    ]
    return head + "\nstations:\n" + "\n".join(rows) + "\n"


def _build(registry: Path, site: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "build", "--config", str(MKDOCS_YML),
         "--registry", str(registry), "--site-dir", str(site)],
        check=True, capture_output=True,
    )
    return time.perf_counter() - started


def _cold(registry: Path, root: Path) -> float:
    """A build from nothing: no output, no QR cache."""
    times = []
    for _ in range(REPEAT):
        shutil.rmtree(root / "out", ignore_errors=True)
        times.append(_build(registry, root / "out" / "site"))
    return sorted(times)[len(times) // 2]


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sample = root / "stations.yml"
        shutil.copy(SAMPLE_REGISTRY, sample)
        build_25 = _cold(sample, root)
        times = []
        original = sample.read_text("utf-8")
        for n in range(REPEAT):
            sample.write_text(original.replace("候车大厅入口处", f"候车大厅{n}号门"), "utf-8")
            times.append(_build(sample, root / "out" / "site"))
        rebuild = sorted(times)[len(times) // 2]
        large = root / "stations-1000.yml"
        large.write_text(generated_registry(1000), "utf-8")
        shutil.rmtree(root / "out", ignore_errors=True)
        build_1000 = _build(large, root / "out" / "site")
    return {"build_25_s": build_25, "build_1000_s": build_1000, "rebuild_one_s": rebuild}
