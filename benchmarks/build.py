"""Build speed: the 25-station sample, a generated 1,000-station registry, and a
rebuild after one station changed. Each is a whole `minqing build` process. The smoke
builds once each, and 30 generated stations stand in for the 1,000."""

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
METRICS = ("build_25_s", "build_1000_s", "rebuild_one_s")
# The station text the rebuild changes: if the sample loses it, the rebuild changes nothing.
CHANGED = "候车大厅入口处"
TOWNS = ["东城街道", "西城街道", "尧塘街道", "金城镇", "儒林镇", "直溪镇", "朱林镇", "薛埠镇", "指前镇"]


def generated_registry(count: int) -> str:
    text = SAMPLE_REGISTRY.read_text("utf-8")
    head = text[: text.index("\nstations:")]
    # The sectors' block only: the departments below it are written the same way.
    sectors = re.findall(r"\{id: ([a-z-]+), name:", head[head.index("\nsectors:") : head.index("\ndepartments:")])
    rows = [
        f"  - {{id: post-{n:04d}, name: 测试哨点{n}, sector: {sectors[n % len(sectors)]}, "
        f"town: {TOWNS[n % len(TOWNS)]}, place: 第{n}号位置, chief: 志愿者{n}, active: true}}"
        for n in range(count)
    ]
    return head + "\nstations:\n" + "\n".join(rows) + "\n"


def _build(registry: Path, site: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "build", "--config", str(MKDOCS_YML),
         "--registry", str(registry), "--site-dir", str(site)],
        capture_output=True, text=True,
    )
    took = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"minqing build exited with {done.returncode}: {done.stderr[-2000:]}")
    return took


def _cold(registry: Path, root: Path, repeat: int) -> float:
    """A build from nothing: no output, no QR cache."""
    times = []
    for _ in range(repeat):
        shutil.rmtree(root / "out", ignore_errors=True)
        times.append(_build(registry, root / "out" / "site"))
    return sorted(times)[len(times) // 2]


def run(site_dir: Path | None = None, smoke: bool = False) -> dict[str, float]:
    repeat, stations = (1, 30) if smoke else (REPEAT, 1000)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sample = root / "stations.yml"
        shutil.copy(SAMPLE_REGISTRY, sample)
        build_25 = _cold(sample, root, repeat)
        times = []
        original = sample.read_text("utf-8")
        assert CHANGED in original, f"the sample registry no longer holds {CHANGED!r}: the rebuild would change nothing"
        for n in range(repeat):
            sample.write_text(original.replace(CHANGED, f"候车大厅{n}号门"), "utf-8")
            times.append(_build(sample, root / "out" / "site"))
        rebuild = sorted(times)[len(times) // 2]
        large = root / "stations-large.yml"
        large.write_text(generated_registry(stations), "utf-8")
        shutil.rmtree(root / "out", ignore_errors=True)
        build_1000 = _build(large, root / "out" / "site")
    return {"build_25_s": build_25, "build_1000_s": build_1000, "rebuild_one_s": rebuild}
