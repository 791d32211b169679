"""`minqing build`: validate the registry, build the site, publish only what changed.

The one build step that touches the output folder. MkDocs builds into a fresh staging
folder beside the output; only when that succeeded are changed files copied over, each
by an atomic rename, and files the new build no longer has removed. A failed build
leaves the published site as it was, and an unchanged file keeps its bytes and mtime,
so a static host (and the service worker) sees only real changes.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from build_scripts.files import replace_file
from build_scripts.posters import poster_address_problem
from minqing.registry import DEFAULT_REGISTRY, load_registry

__all__ = ["BuildReport", "StrictBuildError", "build_site"]

# A fixed build date: the same registry must give byte-identical output.
REPRODUCIBLE_EPOCH = "1600000000"
# Written last, so a page never points at an asset or a worker that is not there yet.
_LAST = ("sw.js",)


@dataclass(frozen=True)
class BuildReport:
    written: list[str]
    removed: list[str]
    unchanged: int
    warnings: tuple[str, ...] = ()


class StrictBuildError(ValueError):
    """A warning that `--strict` turns into a refusal to build."""


def build_site(
    config_file: Path, registry_file: Path | None = None, site_dir: Path | None = None,
    public_keys: Path | None = None, strict: bool = False,
) -> BuildReport:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config_file = Path(config_file).resolve()
    overrides = {}
    if registry_file is not None or public_keys is not None:
        overrides["extra"] = {"registry": str(Path(registry_file or _registry_of(config_file, None)).resolve()),
                              "generator": False}
        if public_keys is not None:
            overrides["extra"]["public_keys"] = str(Path(public_keys).resolve())
    # Validate first: a broken registry must not even start a build.
    registry = load_registry(_registry_of(config_file, registry_file))
    warnings = tuple(w for w in [poster_address_problem(registry.site.base_url)] if w)
    if strict and warnings:
        raise StrictBuildError(warnings[0])

    os.environ.setdefault("SOURCE_DATE_EPOCH", REPRODUCIBLE_EPOCH)
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    logging.getLogger("mkdocs").setLevel(logging.WARNING)

    config = load_config(config_file=str(config_file), **overrides)
    target = Path(site_dir or config["site_dir"]).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        config["site_dir"] = str(staging)
        build(config)
        return replace(_publish(staging, target), warnings=warnings)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _registry_of(config_file: Path, registry_file: Path | None) -> Path:
    if registry_file is not None:
        return Path(registry_file)
    import yaml

    # mkdocs.yml carries python tags for some themes; only the registry key matters here.
    raw = yaml.load(config_file.read_text("utf-8"), Loader=yaml.BaseLoader)  # noqa: S506
    return config_file.parent / raw.get("extra", {}).get("registry", str(DEFAULT_REGISTRY))


def _publish(staging: Path, target: Path) -> BuildReport:
    target.mkdir(exist_ok=True)
    new = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
    old = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    written, unchanged = [], 0
    for rel in sorted(new, key=lambda r: (r in _LAST, r.endswith(".html"), r)):
        src, dst = staging / rel, target / rel
        data = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == data:
            unchanged += 1
            continue
        replace_file(dst, data)
        written.append(rel)
    removed = sorted(old - new)
    for rel in removed:
        (target / rel).unlink()
    for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return BuildReport(written=written, removed=removed, unchanged=unchanged)
