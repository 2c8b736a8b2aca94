"""Filing items under topics: by their own `topics`, else as the tagged items teach
(newsgen.classify, when it is confident), else by keyword rules.

Keywords match normalized words with the usual prefix clitics allowed, so the
keyword «الدفاع» finds «والدفاع», «للدفاع» and «دفاع».
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

from .arabic import keyword_stem, normalize, stems, words
from .config import ReadSettings, SiteConfig, TopicConfig
from .model import Article
from .slugs import make_slug

TITLE_WEIGHT = 2
MIN_SCORE = 2
MIN_SHARE = 0.5  # of the best topic's score, for a second or third topic


@dataclass(frozen=True)
class KeywordRules:
    """Keyword phrases of each topic, indexed by the stem of their first word."""

    by_first_stem: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]
    topic_order: tuple[str, ...]
    max_topics: int

    @classmethod
    def from_config(cls, config: SiteConfig) -> "KeywordRules":
        index: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        for topic in config.topics:
            for keyword in topic.keywords:
                parts = words(keyword)
                if parts:
                    phrase = (keyword_stem(parts[0]),) + tuple(parts[1:])
                    index[phrase[0]].append((topic.key, phrase))
        return cls({k: tuple(v) for k, v in index.items()}, tuple(t.key for t in config.topics),
                   config.max_topics)

    def matches(self, text: str) -> set[tuple[str, tuple[str, ...]]]:
        """The (topic, phrase) pairs whose phrase occurs in `text`."""
        tokens = words(text)
        found = set()
        for position, token in enumerate(tokens):
            for stem in stems(token):
                for topic, phrase in self.by_first_stem.get(stem, ()):
                    if tuple(tokens[position + 1:position + len(phrase)]) == phrase[1:]:
                        found.add((topic, phrase))
        return found

    def score(self, title: str, text: str) -> dict[str, int]:
        """Distinct keywords found per topic; a keyword in the headline counts double."""
        scores: dict[str, int] = defaultdict(int)
        in_title = self.matches(title)
        for topic, phrase in self.matches(text) | in_title:
            scores[topic] += TITLE_WEIGHT if (topic, phrase) in in_title else 1
        return dict(scores)

    def file(self, title: str, text: str) -> tuple[str, ...]:
        """The topics an untagged item belongs to, best first; empty when none fits."""
        scores = self.score(title, text)
        if not scores:
            return ()
        best = max(scores.values())
        if best < MIN_SCORE:
            return ()
        order = {key: i for i, key in enumerate(self.topic_order)}
        ranked = sorted(scores, key=lambda key: (-scores[key], order.get(key, len(order))))
        chosen = [key for key in ranked if scores[key] >= max(MIN_SCORE, best * MIN_SHARE)]
        return tuple(chosen[: self.max_topics])


def topic_key(name: str, config: SiteConfig | ReadSettings) -> str:
    """The key of a topic as an item names it: a declared topic's, else one made from the
    name ("" when it has no letters or digits)."""
    topic = resolve_topic_name(name, config.topics)
    if topic is not None:
        return topic.key
    return make_slug(name, "latin" if config.slugs == "latin" else "arabic") or make_slug(name, "latin")


def resolve_topic_name(name: str, topics: tuple[TopicConfig, ...]) -> TopicConfig | None:
    """A declared topic by key or by Arabic name, compared after normalization."""
    folded = normalize(name).strip()
    for topic in topics:
        if name == topic.key or folded == normalize(topic.name):
            return topic
    return None


def learned_filing(articles: Sequence[Article], config: SiteConfig) -> Callable[[Article], tuple[str, ...]] | None:
    """Files an untagged item by what the tagged ones teach: its topics, or () to abstain.

    None when `[filing] learn` is off, when every item has topics, or when fewer than
    two topics have `[filing] min_tagged` tagged items. The model is trained on the
    items' resolved topic keys and cached under the site's `.newsgen-cache/`.
    """
    if not config.learn_topics or all(a.topic_keys for a in articles):
        return None
    from .classify import CACHE_FOLDER, Example, LearnSettings, load_or_train

    examples = [Example(a.title, a.text, a.topic_keys) for a in articles if a.topic_keys]
    model = load_or_train(examples, LearnSettings(min_items=config.learn_min_items), config.root / CACHE_FOLDER)
    if model is None:
        return None
    return lambda article: model.file(article.title, article.text, config.learn_confidence, config.max_topics)
