"""MkDocs hooks: feed the generated pages and files into the build, then finish it (precache, CSP).

This is the adapter between the pure build steps and MkDocs. `on_config` takes the
site's name, URL and nav from the registry; `on_files` adds pages, QR codes and
posters as virtual files (nothing generated ever lands in `site/docs`);
`on_post_build` writes the service worker's precache list and the inline-script
hashes the server puts in its Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

from build_scripts.artifacts import render_artifacts
from build_scripts.precache import finish_site
from build_scripts.public_keys import KEYS_NAME, load_public_keys, render_keys_json
from build_scripts.qr import QrCache
from minqing.registry import DEFAULT_REGISTRY, load_registry

_state: dict = {}


def _registry_path(config) -> Path:
    configured = config["extra"].get("registry", str(DEFAULT_REGISTRY))
    return Path(config.config_file_path).parent / configured


def on_config(config):
    registry = load_registry(_registry_path(config))
    _state["registry"] = registry
    config["site_name"] = registry.site.title
    config["site_url"] = registry.site.base_url
    config["extra"]["office"] = registry.site.office
    # Stations stay out of the nav: a nav listing every station makes every page heavy.
    # The sitemap is stamped with the build date (breaking reproducible output) and no
    # one navigates these pages by sitemap.
    config.theme.static_templates.discard("sitemap.xml")
    config["nav"] = [
        {"首页": "index.md"},
        {"重点行业领域": [{s.name: f"sectors/{s.id}.md"} for s in registry.sectors]},
        {"查询进度": "status.md"},
    ]
    return config


# Theme files no page of ours loads: material's JavaScript (search, its bundle; see
# overrides/main.html), source maps, and the sitemap template dropped in on_config.
# Left out, the output is small and a rebuild quick.


def on_page_markdown(markdown: str, page, config, files) -> str:
    # Hand-written pages reach the API through `site.api_base` too: a separate API host
    # must not break the receipt look-up. Same host: relative to the page's folder.
    return markdown.replace("{{ api_base }}", _state["registry"].site.api_base or "..")


def on_files(files: Files, config) -> Files:
    for file in list(files):
        if file.src_uri.startswith("assets/javascripts/") or file.src_uri.endswith(".map") or file.src_uri == "sitemap.xml":
            files.remove(file)
    # Beside the output folder, so every build of one site shares it and none ships it.
    qr = QrCache(Path(config["site_dir"]).parent / ".cache" / "qr")
    for path, content in render_artifacts(_state["registry"], qr).items():
        files.append(File.generated(config, path, content=content))
    public = config["extra"].get("public_keys")
    keys = render_keys_json(_state["registry"], load_public_keys(Path(public) if public else None))
    files.append(File.generated(config, KEYS_NAME, content=keys))
    return files


def on_env(env, config, files):
    # Compiled templates kept beside the QR cache: a rebuild skips Jinja's compiler.
    from jinja2 import FileSystemBytecodeCache

    folder = Path(config["site_dir"]).parent / ".cache" / "jinja"
    folder.mkdir(parents=True, exist_ok=True)
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env


def _zh_cn(html: str) -> str:
    # The theme knows "zh"; screen readers and fonts need the written standard, zh-CN.
    return html.replace('<html lang="zh"', '<html lang="zh-CN"', 1)


def on_post_page(output: str, page, config) -> str:
    return _zh_cn(output)


def on_post_template(output_content: str, template_name: str, config) -> str:
    return _zh_cn(output_content)


def on_post_build(config) -> None:
    finish_site(Path(config["site_dir"]), Path(config["site_dir"]).parent / ".cache" / "css")
