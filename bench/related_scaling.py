"""How does finding related items grow with the archive? Timed at 4,800 and 20,000 items.

    python bench/related_scaling.py [--items 4800 20000] [--runs 3]

Items come from the shared corpus (`$NEWSGEN_CORPUS`, else ../shared/corpus), cycled past its
size as bench/build_speed.py does: the k-th extra cycle gives each record the id `<id>-c<k>`, a
headline ending in ` (k+1)` and a date k × 365 days earlier. The records become newsgen items
in memory (no files), filed under their corpus category, and `newsgen.related.related_items`
runs on the site model. Printed per size: the wall and CPU time of the whole step as the sum of
the medians of its parts (terms of each item; TF-IDF vectors; index and ranking), the time per item, the
candidates scored per item (bounded by TOP_TERMS × POSTING_CAP whatever the size), and, as a
sanity check of relevance, the share of related items that have the item's own corpus category.
In cycled archives an item's copies from other cycles have the same text, so they come first.

The corpus is ANT Corpus v2.1 (A. Chouigui, O. Ben Khiroun, B. Elayeb, "ANT Corpus: An Arabic
News Text Collection for Textual Classification", AICCSA 2017; https://antcorpus.github.io),
used as benchmark input only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from newsgen import related  # noqa: E402
from newsgen.config import parse_config  # noqa: E402
from newsgen.errors import Diagnostics  # noqa: E402
from newsgen.model import Article  # noqa: E402
from newsgen.site import build_site_model  # noqa: E402

TOPICS = {"culture": "culture", "economy": "economy", "internationalNews": "world",
          "middleEast": "middle-east", "sport": "sport", "technology": "technology"}


def corpus_path(given: str | None) -> Path:
    folder = Path(given or os.environ.get("NEWSGEN_CORPUS") or REPO.parent / "shared" / "corpus")
    return folder / "arabic-news.jsonl" if folder.is_dir() else folder


def make_articles(records: list[dict], count: int) -> list[Article]:
    articles = []
    for n in range(count):
        record = records[n % len(records)]
        cycle = n // len(records)
        title = record["title"] + (f" ({cycle + 1})" if cycle else "")
        ident = record["id"] + (f"-c{cycle}" if cycle else "")
        day = datetime.fromisoformat(record["date"]).replace(tzinfo=timezone.utc) - timedelta(days=365 * cycle)
        articles.append(Article(path=f"items/{ident}.md", title=title, slug=ident.lower(), body_html="",
                                text=f"{title}\n{record['text']}", date=day,
                                topics=(TOPICS[record["category"]],)))
    return articles


def measure(model) -> dict:
    """The steps of `related.related_items`, each timed (wall and CPU seconds)."""
    times = {}

    def step(name, work):
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return value

    articles = model.articles
    documents = step("terms", lambda: [related.terms_of(a.title, a.text) for a in articles])
    vectors = step("vectors", lambda: related.top_vectors(documents))
    titles = [related.normalize(a.title).strip() for a in articles]
    step("rank", lambda: related.similar(vectors, [a.topic_keys for a in articles], titles))
    return {"times": times, "vectors": vectors}


def candidates_per_item(vectors) -> float:
    postings = related.inverted_index(vectors)
    return statistics.mean(sum(len(postings[t]) for t in v) for v in vectors) if vectors else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[4800, 20000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus")
    args = parser.parse_args(argv)
    path = corpus_path(args.corpus)
    if not path.is_file():
        print(f"the corpus is not at {path}; pass --corpus or set NEWSGEN_CORPUS", file=sys.stderr)
        return 2
    records = [json.loads(line) for line in path.open(encoding="utf-8")]
    config = parse_config({"site": {"title": "bench"}, "filing": {"learn": False},
                           "topic": [{"key": k, "name": k} for k in sorted(set(TOPICS.values()))]},
                          root=REPO)
    print("# Related items: time against archive size\n")
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average before "
          f"{os.getloadavg()[0]:.2f}; TOP_TERMS={related.TOP_TERMS}, POSTING_CAP={related.POSTING_CAP}, "
          f"TEXT_CHARS={related.TEXT_CHARS}; median of {args.runs} runs\n")
    print("| items | wall s | CPU s | ms per item (CPU) | of which: terms CPU s | vectors CPU s "
          "| index and ranking CPU s | candidates scored per item | related items of the same category |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in args.items:
        model = build_site_model(make_articles(records, count), [], config, Diagnostics())
        runs = [measure(model) for _ in range(args.runs)]

        def median(part: str, index: int) -> float:
            return statistics.median(r["times"][part][index] for r in runs)

        wall = sum(median(part, 0) for part in ("terms", "vectors", "rank"))
        cpu = sum(median(part, 1) for part in ("terms", "vectors", "rank"))
        terms, vectors, rank = median("terms", 1), median("vectors", 1), median("rank", 1)
        result = related.related_items(model)  # the whole step once more, untimed: for the relevance column
        assert result == related.related_items(model), "related items differ between runs"
        by_slug = model.by_slug
        same = [by_slug[s].topic_keys[0] == by_slug[slug].topic_keys[0]
                for slug, picks in result.items() for s in picks]
        print(f"| {count:,} | {wall:.2f} | {cpu:.2f} | {1000 * cpu / count:.3f} | {terms:.2f} | {vectors:.2f} | {rank:.2f} "
              f"| {candidates_per_item(runs[0]['vectors']):.0f} | {100 * sum(same) / max(1, len(same)):.1f}% |")
    print(f"\nload average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
