"""Test tools from the npm registry (axe-core, the current Nu HTML Checker), installed on first use.

Nothing is vendored: each package is installed once, at a pinned version, into a
cache folder outside the repository (`NEWSGEN_TOOLS_CACHE`, else
`~/.cache/newsgen-tests`) and reused by later runs. Install scripts are not run
(`--ignore-scripts`): the files the tests need are inside the packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import in_ci


def cache_folder() -> Path:
    configured = os.environ.get("NEWSGEN_TOOLS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "newsgen-tests"


def npm_file(package: str, version: str, relative: str) -> Path | None:
    """`relative` inside `package@version`, installing it if needed; None if npm is missing or fails."""
    prefix = cache_folder() / f"{package}-{version}"
    target = prefix / "node_modules" / package / relative
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        return None
    prefix.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-save", "--ignore-scripts", "--no-audit", "--no-fund",
         "--loglevel=error", f"{package}@{version}"],
        capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not target.is_file():
        print(f"npm install {package}@{version} failed:\n{result.stderr}")
        return None
    return target


def require_npm_file(package: str, version: str, relative: str) -> Path:
    """Like `npm_file`, but skips the test (fails it under CI=true) when the file cannot be had."""
    path = npm_file(package, version, relative)
    if path is None:
        reason = (f"{package}@{version} is not in {cache_folder()} and npm could not install it "
                  f"(npm install {package}@{version} needs npm and the npm registry)")
        if in_ci():
            pytest.fail(reason + " (CI=true: this test must run)")
        pytest.skip(reason)
    return path
