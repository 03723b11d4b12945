"""Data Docs that work on a government intranet with no internet.

GX 1.24's page templates load bootstrap, bootstrap-table, bootstrap-datepicker, jQuery, popper, vega and
Font Awesome from public CDNs, and its logo from S3; offline the pages are unstyled and the index table —
filled by JavaScript — is empty. GX's template loader prefers its own templates, so instead every page GX
writes is rewritten right after (``rewrite_pages``): each CDN URL of ``data_docs_assets/MANIFEST.json``
becomes the relative path of the same file, vendored with its licence in ``data_docs_assets/`` and copied
into the site's ``static/vendor/`` (``install_assets``); its ``integrity``/``crossorigin`` attributes go
(a browser refuses them on file://); the S3 logo becomes GX's own copy in ``static/images/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from functools import lru_cache
from pathlib import Path

from etl.shared_paths import read_no_follow, real_folder, write_new

ASSETS = Path(__file__).with_name("data_docs_assets")
S3_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_CORS_ATTRIBUTES = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
_S3_LOGO = re.compile(re.escape(S3_ASSETS) + r'logo-long\.png[^"\')]*')


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads((ASSETS / "MANIFEST.json").read_text(encoding="utf-8"))


_INSTALLED: dict[Path, dict[Path, tuple[int, int] | None]] = {}  # site → its vendored files as last verified


def install_assets(site_dir: Path) -> None:
    """Copy the vendored files into ``site_dir/static/vendor/`` where missing or different. Files this
    process verified and nobody touched since (same size and mtime) are not read again: each page would
    otherwise hash a few megabytes."""
    targets = {site_dir / "static" / "vendor" / relative: digest for relative, digest in manifest()["files"].items()}
    verified = _INSTALLED.get(site_dir)
    if verified is not None and file_stats(targets) == verified:
        return
    for target, digest in targets.items():
        present = read_no_follow(target)
        if present is not None and hashlib.sha256(present).hexdigest() == digest:
            continue
        real_folder(target.parent, site_dir)
        vendored = ASSETS / "vendor" / target.relative_to(site_dir / "static" / "vendor")
        write_new(target, site_dir, vendored.read_bytes())
    _INSTALLED[site_dir] = file_stats(targets)


def file_stats(paths) -> dict[Path, tuple[int, int] | None]:
    """Each path's (size, mtime in ns), None where it is no regular file (or a link): equal stats mean
    untouched."""
    stats = {}
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            stats[path] = None
            continue
        stats[path] = (info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None
    return stats


def offline_html(text: str, up: str) -> str:
    """``text`` (a page ``up`` — "." or "../.." — below the site's root) with every CDN asset local."""
    urls = manifest()["urls"]

    def local(match: re.Match) -> str:
        tag = match.group(0)
        for url, asset in urls.items():
            if f'"{url}"' in tag:
                return _CORS_ATTRIBUTES.sub("", tag.replace(f'"{url}"', f'"{up}/static/vendor/{asset["path"]}"'))
        return tag

    text = _TAG.sub(local, text)
    text = _S3_LOGO.sub(f"{up}/static/images/logo-long.png", text)
    return text.replace(f"url('{S3_ASSETS}full_logo_dark.png')", "none")  # the dark-mode logo: none offline


def rewrite_pages(site_dir: Path, pages) -> None:
    """Make ``pages`` (HTML files under ``site_dir``) work offline, each replaced atomically."""
    install_assets(site_dir)
    for page in pages:
        page = Path(page)
        data = read_no_follow(page)
        if data is None:
            continue
        text = data.decode("utf-8")
        fixed = offline_html(text, Path(os.path.relpath(site_dir, page.parent)).as_posix())
        if fixed != text:
            write_new(page, site_dir, fixed.encode("utf-8"))


def external_assets(text: str) -> list[str]:
    """The http(s) URLs a page still loads (scripts, stylesheets, images, CSS urls), links excluded."""
    loaded = re.findall(r'<(?:script|img)\b[^>]*\bsrc="(https?://[^"]+)"', text)
    loaded += re.findall(r'<link\b[^>]*\bhref="(https?://[^"]+)"', text)
    loaded += re.findall(r"url\(['\"]?(https?://[^)'\"]+)", text)
    return loaded
