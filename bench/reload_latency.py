"""How long from saving an item to the open browser tab showing the change.

Runs `newsgen serve` on two sites, opens one item's page in headless Chromium and
edits that item again and again (~15 times). For each save it takes the time from
just before the file is written to the moment the reloaded page's document was
ready (the navigation's DOMContentLoaded, on the same wall clock), and prints the
medians. Sites:

- sample: a copy of this repository's sample archive (site.toml, seeds/, content/, templates/);
- corpus: the 4,800-item development corpus (`$NEWSGEN_CORPUS`, default
  /work/shared/corpus/arabic-news.jsonl), each JSON line written as a Markdown item
  with front matter, under the repository's site.toml and topics.

The corpus is ANT Corpus v2.1 (Chouigui, Ben Khiroun, Elayeb: "ANT Corpus: An Arabic
News Text Collection for Textual Classification", AICCSA 2017; project page
https://antcorpus.github.io). Its texts are used here as benchmark input only.

    python bench/reload_latency.py [--sites sample,corpus] [--edits 15] [--edit body|title]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
DEFAULT_CORPUS = "/work/shared/corpus/arabic-news.jsonl"
SEED = Path("seeds/content/000_a32ecea6be25f2b2.txt")
TOPICS = {"culture": "culture", "economy": "economy", "internationalNews": "world",
          "middleEast": "middle-east", "sport": "sport", "technology": "technology"}


# -- the sites --------------------------------------------------------------------------

def copy_sample(root: Path) -> Path:
    site = root / "sample"
    site.mkdir()
    shutil.copy2(REPO / "site.toml", site / "site.toml")
    for folder in ("seeds", "content", "templates", "static"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, site / folder)
    return site


def corpus_item(record: dict) -> str:
    """One corpus line as a Markdown item (JSON strings are valid YAML scalars)."""
    topic = TOPICS.get(record["category"], record["category"])
    meta = [
        "---",
        f"title: {json.dumps(record['title'], ensure_ascii=False)}",
        f"date: {record['date']}",
        f"source: {json.dumps(record['source'], ensure_ascii=False)}",
        f"topics: [{json.dumps(topic, ensure_ascii=False)}]",
        "---",
        "",
    ]
    return "\n".join(meta) + record["text"].strip() + "\n"


def make_corpus_site(root: Path, corpus: Path) -> Path:
    site = root / "corpus"
    items = site / "items"
    items.mkdir(parents=True)
    toml = (REPO / "site.toml").read_text(encoding="utf-8")
    toml, count = re.subn(r"(?m)^items\s*=.*$", 'items = ["items"]', toml)
    assert count == 1, "site.toml has no [content] items line to replace"
    (site / "site.toml").write_text(toml, encoding="utf-8")
    for folder in ("content", "templates"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, site / folder)
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                (items / f"{record['id']}.md").write_text(corpus_item(record), encoding="utf-8")
    return site


# -- the server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/__newsgen/status", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return {}


def start_serve(site: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "newsgen.cli", "serve", "--config", "site.toml", "--port", str(port)],
        cwd=site, stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 600
    while not status(port).get("build"):
        if process.poll() is not None:
            raise SystemExit(f"newsgen serve stopped:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise SystemExit("newsgen serve did not finish its first build in 10 minutes")
        time.sleep(0.1)
    return process, port


def settle(port: int) -> None:
    """Wait until no build is running."""
    deadline = time.monotonic() + 600
    while status(port).get("building") and time.monotonic() < deadline:
        time.sleep(0.05)


def article_url(site: Path, title: str) -> str:
    pattern = re.compile(r'<h1 class="article-title">(.*?)</h1>', re.S)
    for page in (site / "public" / "articles").glob("*/index.html"):
        found = pattern.search(page.read_text(encoding="utf-8"))
        if found and html.unescape(found.group(1)).strip() == title:
            return f"/articles/{quote(page.parent.name)}/"
    raise SystemExit(f"no article titled {title!r} in {site / 'public'}")


# -- measuring ---------------------------------------------------------------------------

PAGE_HAS = "(marker) => !!document.body && document.body.innerText.includes(marker)"
LOADED_AT = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return nav && nav.domContentLoadedEventEnd ? performance.timeOrigin + nav.domContentLoadedEventEnd : null;
}"""


def wait_for_text(page, marker: str, timeout: float) -> float:
    """Poll until the page shows `marker`; the wall-clock ms its document was ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.evaluate(PAGE_HAS, marker):
                loaded = page.evaluate(LOADED_AT)
                if loaded:
                    return loaded
        except Exception:  # the page is navigating: its context went away mid-call
            pass
        time.sleep(0.01)
    raise TimeoutError(f"the page did not show {marker!r} within {timeout} s")


def measure(name: str, site: Path, item: Path, title: str, edits: int, edit: str, browser,
            workdir: Path) -> dict:
    log = workdir / f"{name}-serve.log"
    started = time.monotonic()
    process, port = start_serve(site, log)
    first_build = time.monotonic() - started
    results: list[float] = []
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}{article_url(site, title)}")
        page.wait_for_function("() => window.__newsgenPreview && window.__newsgenPreview.source "
                               "&& window.__newsgenPreview.source.readyState === 1")
        original = item.read_text(encoding="utf-8")
        for n in range(1, edits + 1):
            settle(port)
            time.sleep(0.3)
            if edit == "title":
                marker = f"{title} (تحديث {n})"
                text = original.replace(title, marker, 1)
            else:
                marker = f"فقرة التعديل رقم {n} للقياس."
                text = original.rstrip("\n") + f"\n\n{marker}\n"
            saved_at = time.time() * 1000
            item.write_text(text, encoding="utf-8")
            loaded_at = wait_for_text(page, marker, timeout=300)
            results.append(loaded_at - saved_at)
            print(f"  {name} edit {n:2d}: {results[-1]:8.0f} ms", flush=True)
        item.write_text(original, encoding="utf-8")
    finally:
        process.terminate()
        process.wait(timeout=10)
    rebuilds = [float(s) for s in re.findall(r"rebuilt in ([\d.]+) s", log.read_text(encoding="utf-8"))]
    return {"site": name, "edits": len(results), "median_ms": statistics.median(results),
            "min_ms": min(results), "max_ms": max(results),
            "median_rebuild_s": statistics.median(rebuilds) if rebuilds else None,
            "first_build_s": first_build}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default="sample,corpus", help="comma-separated: sample, corpus")
    parser.add_argument("--edits", type=int, default=15, help="saves per site (default 15)")
    parser.add_argument("--edit", choices=("body", "title"), default="body",
                        help="add a paragraph to the item (default) or change its headline "
                             "(which also moves it to a new address)")
    parser.add_argument("--corpus", default=os.environ.get("NEWSGEN_CORPUS", DEFAULT_CORPUS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="newsgen-reload-"))
    summary = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                for name in [s.strip() for s in args.sites.split(",") if s.strip()]:
                    if name == "sample":
                        site = copy_sample(workdir)
                        item = site / SEED
                        title = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."
                    elif name == "corpus":
                        corpus = Path(args.corpus)
                        if not corpus.is_file():
                            print(f"skipping corpus: {corpus} not found (set NEWSGEN_CORPUS)")
                            continue
                        site = make_corpus_site(workdir, corpus)
                        records = [json.loads(line) for line in corpus.open(encoding="utf-8") if line.strip()]
                        # A headline without quotes, so that it reads the same in YAML and HTML.
                        record = next(r for r in records[len(records) // 2:]
                                      if not re.search(r"[\"'\\&<>]", r["title"]))
                        item = site / "items" / f"{record['id']}.md"
                        title = record["title"]
                    else:
                        raise SystemExit(f"unknown site {name!r}; use sample or corpus")
                    print(f"{name}: {sum(1 for _ in site.rglob('*.md')) + sum(1 for _ in site.rglob('*.txt'))} "
                          f"source files, editing {item.relative_to(site)} ({args.edit})", flush=True)
                    summary.append(measure(name, site, item, title, args.edits, args.edit, browser, workdir))
            finally:
                browser.close()
    finally:
        if args.keep:
            print(f"sites kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"save-to-reloaded-page latency ({args.edit} edits), medians:")
    for row in summary:
        rebuild = f"{row['median_rebuild_s']:.2f} s" if row["median_rebuild_s"] is not None else "n/a"
        print(f"  {row['site']:7s} median {row['median_ms']:7.0f} ms  (min {row['min_ms']:.0f}, "
              f"max {row['max_ms']:.0f}, {row['edits']} edits; median rebuild {rebuild}; "
              f"first build {row['first_build_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
