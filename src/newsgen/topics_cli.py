"""`newsgen topics`: what the tagged items teach, and how well (`--evaluate`)."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import replace

from .config import load_config
from .errors import Diagnostics


def add_parser(subparsers, add_site_options) -> None:
    topics = subparsers.add_parser(
        "topics", help="show the topics the learned filing knows; --evaluate measures it",
        description="List the topics of the tagged items and which of them the learned filing knows "
                    "(those with at least `[filing] min_tagged` tagged items). With --evaluate, hold out "
                    "each of k folds of the tagged items in turn, file them as untagged items would be "
                    "filed, and print per-topic precision, recall and F1 and the confusion table for the "
                    "learned model alone, the keyword rules alone and both together as a build files.")
    add_site_options(topics)
    topics.add_argument("--evaluate", action="store_true", help="measure the filing on held-out tagged items")
    topics.add_argument("--folds", type=int, default=5, metavar="K", help="folds for --evaluate (default: 5)")
    topics.add_argument("--confidence", type=float, metavar="P",
                        help="the threshold to evaluate (default: [filing] confidence in site.toml)")
    topics.set_defaults(handler=run_topics)


def run_topics(args: argparse.Namespace, console) -> int:
    from .classify import Example, LearnSettings, cross_validate, format_evaluation, learnable_topics
    from .filing import KeywordRules
    from .loaders import load_articles
    from .site import file_articles

    config = load_config(args.config)
    if args.folds < 2:
        console.error("error: --folds must be at least 2")
        return 2
    threshold = config.learn_confidence if args.confidence is None else args.confidence
    if not 0 < threshold <= 1:
        console.error("error: --confidence must be above 0 and at most 1")
        return 2
    diagnostics = Diagnostics()
    articles = load_articles(config, diagnostics, drafts=args.drafts)
    diagnostics.raise_if_errors()
    # Resolve each item's own topics to keys, without filing the untagged ones.
    filed, _ = file_articles(articles, replace(config, learn_topics=False), Diagnostics())
    examples = [Example(a.title, a.text, a.topic_keys) for a in filed if not a.topics_inferred]
    untagged = len(filed) - len(examples)
    settings = LearnSettings(min_items=config.learn_min_items)
    learned = learnable_topics(examples, settings.min_items)
    counts = Counter(key for e in examples for key in e.topics)

    print(f"{len(examples)} tagged items, {untagged} without topics; "
          f"the learned filing is {'on' if config.learn_topics else 'off (`[filing] learn = false`)'}")
    print(f"topics with at least {settings.min_items} tagged items are learned:")
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {key:<24} {n:6d}  {'learned' if key in learned else 'too few: keyword rules only'}")
    if len(learned) < 2:
        print("fewer than two topics can be learned: untagged items are filed by keyword rules alone")
        return 0
    if not args.evaluate:
        return 0

    rules = KeywordRules.from_config(config)
    print(f"\n{args.folds}-fold held-out evaluation at confidence {threshold:g} "
          f"(items whose first topic is not learned count against the learned topics' precision)\n")

    def progress(done: int, total: int) -> None:
        console.debug(f"fold {done} of {total} done")

    results = cross_validate(examples, settings, folds=args.folds, threshold=threshold,
                             max_topics=config.max_topics, keyword_filing=rules.file,
                             fallback=config.fallback_topic, progress=progress)
    for evaluation in results:
        print(format_evaluation(evaluation, confusion=evaluation.name != "keyword rules alone"))
        print()
    return 0
