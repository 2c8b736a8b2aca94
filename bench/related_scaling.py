"""How does finding related items grow with the archive? Timed at 1,000 to 20,000 items.

    python bench/related_scaling.py [--items 1000 5000 10000 20000] [--runs 3]

Items come from the shared corpus (`$NEWSGEN_CORPUS`, else ../shared/corpus), cycled past its
size as bench/build_speed.py does: the k-th extra cycle gives each record the id `<id>-c<k>`, a
headline ending in ` (k+1)` and a date k × 365 days earlier. The records become newsgen items
in memory (no files), filed under their corpus category.

A build counts each item's terms (`newsgen.related.terms_of`) once, when it reads the item, and
keeps them in its cache; `related_items` then runs on the site model with those counts. The two
are timed apart. Printed per size, as the median of the runs: the CPU (and wall) seconds of
`terms_of` over every item, starting with empty word memos as a fresh worker process does; the
CPU (and wall) seconds of `related_items` given the counts; the peak memory `related_items`
allocates over its input (tracemalloc, in a separate untimed run); the candidates scored per item
(bounded by TOP_TERMS × POSTING_CAP whatever the size); and, as a sanity check of relevance, the
share of related items that have the item's own corpus category. In cycled archives an item's
copies from other cycles have the same text, so they come first.

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
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

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


def timed(work):
    """The value of `work()` with its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def count_terms(articles: list[Article]) -> dict:
    """Every item's term counts, as a build's parse step makes them, from empty word memos."""
    related._counted_term.cache_clear()
    return {a.path: related.terms_of(a.title, a.text) for a in articles}


def peak_memory(model, counts: dict) -> float:
    """MiB `related_items` allocates at most beyond what exists when it starts."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        related.related_items(model, term_counts=counts)
        return (tracemalloc.get_traced_memory()[1] - base) / 2**20
    finally:
        tracemalloc.stop()


def candidates_per_item(documents: list) -> float:
    """The mean, over items, of the postings read to score an item's candidates."""
    vectors = related.top_vectors(documents)
    lengths = np.diff(related.inverted_index(vectors).matrix.indptr)
    matrix = vectors.matrix
    reads = np.bincount(matrix.entry_rows(), lengths[matrix.indices], minlength=matrix.height)
    return float(reads.mean()) if len(reads) else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 5000, 10000, 20000])
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
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, load average "
          f"before {os.getloadavg()[0]:.2f}; TOP_TERMS={related.TOP_TERMS}, POSTING_CAP={related.POSTING_CAP}, "
          f"TEXT_CHARS={related.TEXT_CHARS}; median of {args.runs} runs\n")
    print("| items | terms_of CPU s (wall) | µs per item | related_items CPU s (wall) | µs per item "
          "| peak MiB | candidates scored per item | related items of the same category |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in args.items:
        articles = make_articles(records, count)
        model = build_site_model(articles, [], config, Diagnostics())
        counting = [timed(lambda: count_terms(articles)) for _ in range(args.runs)]
        counts = counting[0][0]
        ranking = [timed(lambda: related.related_items(model, term_counts=counts)) for _ in range(args.runs)]
        result = ranking[0][0]
        assert all(r[0] == result for r in ranking), "related items differ between runs"
        terms_wall, terms_cpu = (statistics.median(r[i] for r in counting) for i in (1, 2))
        rank_wall, rank_cpu = (statistics.median(r[i] for r in ranking) for i in (1, 2))
        by_slug = model.by_slug
        same = [by_slug[s].topic_keys[0] == by_slug[slug].topic_keys[0]
                for slug, picks in result.items() for s in picks]
        documents = [counts[a.path] for a in model.articles]
        print(f"| {count:,} | {terms_cpu:.2f} ({terms_wall:.2f}) | {1e6 * terms_cpu / count:.0f} "
              f"| {rank_cpu:.2f} ({rank_wall:.2f}) | {1e6 * rank_cpu / count:.0f} "
              f"| {peak_memory(model, counts):.1f} | {candidates_per_item(documents):.0f} "
              f"| {100 * sum(same) / max(1, len(same)):.1f}% |")
    print(f"\nload average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
