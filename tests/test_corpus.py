"""Build the whole shared corpus (4,800 real items) and check the output against it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import REPO, corpus_file
from newsgen.cli import main

CATEGORY_TOPICS = {"culture": "culture", "economy": "economy", "internationalNews": "world",
                   "middleEast": "middle-east", "sport": "sport", "technology": "technology"}


def write_corpus_site(records: list[dict], root: Path) -> Path:
    items = root / "items"
    items.mkdir(parents=True)
    for record in records:
        meta = {"title": record["title"], "date": record["date"], "source": record["source"],
                "topics": [CATEGORY_TOPICS[record["category"]]]}
        (items / f"{record['id']}.md").write_text(
            "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + record["text"] + "\n",
            encoding="utf-8")
    config = (REPO / "site.toml").read_text("utf-8").replace('items = ["seeds/content"]', 'items = ["items"]')
    config += "\n[search]\nenabled = false\n"  # search has tests of its own
    (root / "site.toml").write_text(config, encoding="utf-8")
    return root


@pytest.mark.corpus
def test_the_whole_corpus_builds_with_one_page_per_item(tmp_path):
    records = [json.loads(line) for line in corpus_file().read_text("utf-8").splitlines() if line.strip()]
    assert len(records) == 4800
    site = write_corpus_site(records, tmp_path / "site")
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 0
    out = site / "public"

    articles = list((out / "articles").glob("*/index.html"))
    assert len(articles) == len(records)

    from newsgen.config import load_config
    per_page = load_config(site / "site.toml").per_page
    for category, count in Counter(r["category"] for r in records).items():
        topic = out / "topics" / CATEGORY_TOPICS[category]
        pages = 1 + len(list((topic / "page").glob("*/index.html")))
        assert pages == max(1, count // per_page), category  # the newest page takes the rest

    months = Counter(r["date"][:7] for r in records)
    for month in months:
        assert (out / "archive" / month[:4] / month[5:7] / "index.html").exists(), month
    month_folders = [p for p in (out / "archive").glob("*/*") if p.name.isdigit()]
    assert len(month_folders) == len(months)
    first_month = sorted(months)[-1]
    pages = 1 + len(list((out / "archive" / first_month[:4] / first_month[5:7] / "page").glob("*/index.html")))
    assert pages == max(1, months[first_month] // per_page)
