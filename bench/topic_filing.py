"""How well are untagged items filed? Keyword rules alone against the learned filing, k-fold.

Every corpus record is treated as an untagged item in turn: the learned model is
trained on the other folds (as a build trains it on an archive's tagged items) and
files the held-out ones; the keyword rules are those of the repository's site.toml.
The corpus categories map to the site's topics: culture -> culture, economy ->
economy, internationalNews -> world, middleEast -> middle-east, sport -> sport,
technology -> technology.

    python bench/topic_filing.py [--folds 5] [--confidence 0.6] [--open-set] [--char-ngrams 3,4,5]

Prints Markdown tables: per-topic precision, recall and F1 for the keyword rules, the
learned model alone (abstaining below the threshold) and the learned filing a build
does (the model when confident, else the keyword rules, else the fallback topic); the
confusion tables; and with --open-set, how often the model files items of a topic it
was never shown (each topic left out of training in turn), which it should not.

The corpus is ANT Corpus v2.1 (A. Chouigui, O. Ben Khiroun, B. Elayeb, "ANT Corpus: An
Arabic News Text Collection for Textual Classification", AICCSA 2017; project page
https://antcorpus.github.io), used as benchmark input only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from newsgen.classify import (Example, LearnSettings, choose, cross_validate, features,  # noqa: E402
                              format_evaluation, train)
from newsgen.config import load_config  # noqa: E402
from newsgen.filing import KeywordRules  # noqa: E402

TOPICS = {"culture": "culture", "economy": "economy", "internationalNews": "world",
          "middleEast": "middle-east", "sport": "sport", "technology": "technology"}


def corpus_path(given: str | None) -> Path:
    folder = Path(given or os.environ.get("NEWSGEN_CORPUS") or REPO.parent / "shared" / "corpus")
    return folder / "arabic-news.jsonl" if folder.is_dir() else folder


def load_examples(path: Path) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            # An item's text is its headline and then its body, as newsgen's loaders make it.
            examples.append(Example(record["title"], f"{record['title']}\n{record['text']}",
                                    (TOPICS[record["category"]],)))
    return examples


def markdown_table(results) -> str:
    names = [r.name for r in results]
    header = "| topic | " + " | ".join(f"{n}: P / R / F1" for n in names) + " |"
    lines = [header, "|---" * (len(names) + 1) + "|"]
    for i, topic in enumerate(results[0].topics):
        cells = [f"{r.topics[i].precision:.3f} / {r.topics[i].recall:.3f} / **{r.topics[i].f1:.3f}**"
                 for r in results]
        lines.append(f"| {topic.topic} | " + " | ".join(cells) + " |")
    lines.append("| **macro F1** | " + " | ".join(f"**{r.macro_f1:.3f}**" for r in results) + " |")
    lines.append("| filed by itself | " + " | ".join(f"{r.filed} of {r.total}" for r in results) + " |")
    return "\n".join(lines)


def open_set(examples: list[Example], settings: LearnSettings, threshold: float) -> list[tuple[str, float, int]]:
    """For each topic: the share of its items the model files when trained without it."""
    featurized = [features(e.title, e.text, settings) for e in examples]
    rows = []
    for topic in sorted({e.topics[0] for e in examples}):
        train_idx = [i for i, e in enumerate(examples) if topic not in e.topics]
        test_idx = [i for i, e in enumerate(examples) if topic in e.topics]
        model = train([examples[i] for i in train_idx], settings, featurized=[featurized[i] for i in train_idx])
        filed = sum(1 for i in test_idx if choose(model.probabilities_of(featurized[i]), threshold))
        rows.append((topic, filed / len(test_idx), len(test_idx)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="the corpus folder or arabic-news.jsonl "
                                         "(default: $NEWSGEN_CORPUS, else ../shared/corpus)")
    parser.add_argument("--config", default=str(REPO / "site.toml"), help="site.toml with the keyword rules")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--confidence", type=float, help="threshold (default: [filing] confidence of site.toml)")
    parser.add_argument("--char-ngrams", default="", help="e.g. 3,4,5: add character n-grams to the words")
    parser.add_argument("--open-set", action="store_true", help="also leave each topic out of training in turn")
    args = parser.parse_args(argv)

    path = corpus_path(args.corpus)
    if not path.is_file():
        print(f"the corpus is not at {path}; pass --corpus or set NEWSGEN_CORPUS", file=sys.stderr)
        return 2
    config = load_config(args.config)
    threshold = config.learn_confidence if args.confidence is None else args.confidence
    grams = tuple(int(n) for n in args.char_ngrams.split(",") if n.strip())
    settings = LearnSettings(min_items=config.learn_min_items, char_ngrams=grams)
    examples = load_examples(path)
    rules = KeywordRules.from_config(config)

    print(f"# Topic filing: keyword rules against the learned filing ({args.folds}-fold)\n")
    print(f"{len(examples)} items from {path.name}; keyword rules of {Path(args.config).name}; "
          f"confidence {threshold:g}; features: words{' + char n-grams ' + str(grams) if grams else ''}; "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n")
    wall, cpu = time.perf_counter(), time.process_time()
    results = cross_validate(examples, settings, folds=args.folds, threshold=threshold,
                             max_topics=config.max_topics, keyword_filing=rules.file,
                             fallback=config.fallback_topic)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    keywords, alone, combined = results[1], results[0], results[2]
    print(markdown_table([keywords, alone, combined]))
    print(f"\n{args.folds} folds in {wall:.1f} s wall, {cpu:.1f} s CPU "
          "(features once, then a model trained per fold; keyword rules once).\n")
    for evaluation in (alone, combined):
        print("```")
        print(format_evaluation(evaluation))
        print("```\n")
    if args.open_set:
        print("## Items of a topic the model never saw (that topic left out of training)\n")
        print("| left-out topic | items | filed anyway at the threshold |")
        print("|---|---:|---:|")
        for topic, share, count in open_set(examples, settings, threshold):
            print(f"| {topic} | {count} | {100 * share:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
