"""Filing untagged items by what the tagged part of the archive teaches.

The model is multinomial naive Bayes over the normalized words of an item (stop
words left out, the headline counted twice, counts damped as 1 + log(count)),
optionally with character n-grams of those words. Scores are per word, so long
and short items compare; a softmax with a temperature fitted on the training
items themselves (k-fold) turns them into probabilities.

Besides the learned topics the softmax has one more outcome, "none of them": the
archive's pooled vocabulary, handicapped by `other_bias` nats per word. A text
that no topic explains clearly better than the archive's general vocabulary does
(a subject the tagged items never show) keeps most of its probability there, so
the model abstains and the keyword rules or the fallback topic decide.

Everything is deterministic: training sorts its examples, folds are fixed by
content, and the model is cached by a hash of its training data and settings.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from operator import mul
from pathlib import Path
from typing import Iterable, Sequence

from .arabic import STOP_WORDS, words

MODEL_VERSION = 1
CACHE_FOLDER = ".newsgen-cache"
CACHE_FILE = "topic-model.json.gz"


@dataclass(frozen=True)
class Example:
    """A tagged item: its headline, its text (headline included) and its topic keys."""

    title: str
    text: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class LearnSettings:
    min_items: int = 20  # tagged items a topic needs to be learned
    alpha: float = 0.3  # additive smoothing of word counts
    title_weight: int = 2  # the headline's words count this many times
    char_ngrams: tuple[int, ...] = ()  # e.g. (3, 4, 5): n-grams of each distinct word, besides the words
    min_df: int = 2  # a feature must occur in this many training items
    other_bias: float = -0.35  # nats per word the archive's pooled vocabulary is handicapped by
    temperatures: tuple[float, ...] = (2, 3, 4, 6, 8, 10, 12, 16, 24, 32, 48)


# -- features -------------------------------------------------------------------------------

def _content(tokens: Iterable[str]) -> list[str]:
    return [w for w in tokens if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]


def features(title: str, text: str, settings: LearnSettings = LearnSettings()) -> dict[str, float]:
    """Feature weights of one item: 1 + log(count) per word, headline words counted `title_weight` times."""
    counts = Counter(_content(words(text)))
    if settings.title_weight > 1:
        for word in _content(words(title)):
            counts[word] += settings.title_weight - 1
    result = {word: 1.0 + math.log(n) for word, n in counts.items()}
    if settings.char_ngrams:
        grams: Counter = Counter()
        for word in counts:
            padded = f" {word} "
            grams.update("#" + padded[i:i + n] for n in settings.char_ngrams for i in range(len(padded) - n + 1))
        result.update((gram, 1.0 + math.log(n)) for gram, n in grams.items())
    return result


# -- the model ------------------------------------------------------------------------------

@dataclass
class TopicModel:
    """Per-feature log-probabilities of each topic and of the pooled vocabulary (the last)."""

    labels: tuple[str, ...]
    log_priors: tuple[float, ...]  # relative to a uniform prior: log(share * number of topics)
    weights: dict[str, tuple[float, ...]]
    temperature: float
    settings: LearnSettings = field(default_factory=LearnSettings)

    def scores(self, feats: dict[str, float]) -> tuple[list[float], float] | None:
        """Mean log-probability per word under each topic and under the pooled vocabulary."""
        weights = self.weights
        known = [f for f in feats if f in weights]
        if not known:
            return None
        amounts = [feats[f] for f in known]
        total = sum(amounts)
        sums = [sum(map(mul, amounts, column)) / total for column in zip(*map(weights.__getitem__, known))]
        return sums[:-1], sums[-1]

    def probabilities_of(self, feats: dict[str, float], temperature: float | None = None) -> dict[str, float]:
        """Probability of each learned topic; what is missing to 1 is "none of them"."""
        scored = self.scores(feats)
        if scored is None:
            return {label: 0.0 for label in self.labels}
        return dict(zip(self.labels, _softmax(scored, self.log_priors, temperature or self.temperature,
                                              self.settings.other_bias)))

    def probabilities(self, title: str, text: str) -> dict[str, float]:
        return self.probabilities_of(features(title, text, self.settings))

    def file(self, title: str, text: str, threshold: float, max_topics: int = 3) -> tuple[str, ...]:
        """The topics whose probability reaches `threshold`, best first; empty to abstain."""
        return choose(self.probabilities(title, text), threshold, max_topics)

    # -- the cache file ---------------------------------------------------------------------

    def to_json(self, key: str) -> dict:
        return {"version": MODEL_VERSION, "key": key, "labels": list(self.labels),
                "log_priors": list(self.log_priors), "temperature": self.temperature,
                "settings": _settings_json(self.settings),
                "weights": {f: list(w) for f, w in self.weights.items()}}

    @classmethod
    def from_json(cls, data: dict, key: str, settings: LearnSettings) -> "TopicModel":
        if data.get("version") != MODEL_VERSION or data.get("key") != key:
            raise ValueError("the cached model is for other training data or settings")
        labels = tuple(data["labels"])
        width = len(labels) + 1
        weights = {}
        for feature, values in data["weights"].items():
            if not isinstance(feature, str) or len(values) != width:
                raise ValueError("malformed weights")
            weights[feature] = tuple(float(v) for v in values)
        log_priors = tuple(float(v) for v in data["log_priors"])
        temperature = float(data["temperature"])
        if len(log_priors) != len(labels) or not all(isinstance(x, str) for x in labels) or not temperature > 0:
            raise ValueError("malformed model")
        return cls(labels, log_priors, weights, temperature, settings)


def _softmax(scored: tuple[list[float], float], log_priors: Sequence[float], temperature: float,
             other_bias: float) -> list[float]:
    topic_scores, pooled = scored
    logits = [temperature * s + p for s, p in zip(topic_scores, log_priors)]
    logits.append(temperature * (pooled + other_bias))
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps[:-1]]


def choose(probabilities: dict[str, float], threshold: float, max_topics: int = 3) -> tuple[str, ...]:
    """Topics at or above `threshold`, most probable first (ties by key)."""
    ranked = sorted((key for key, p in probabilities.items() if p >= threshold),
                    key=lambda key: (-probabilities[key], key))
    return tuple(ranked[:max_topics])


# -- training -------------------------------------------------------------------------------

def learnable_topics(examples: Sequence[Example], min_items: int) -> tuple[str, ...]:
    """Topics with at least `min_items` tagged items, sorted by key."""
    counts = Counter(key for example in examples for key in set(example.topics))
    return tuple(sorted(key for key, n in counts.items() if n >= min_items))


def train(examples: Sequence[Example], settings: LearnSettings = LearnSettings(), *,
          featurized: Sequence[dict[str, float]] | None = None) -> TopicModel | None:
    """A model of the topics that have enough tagged items; None when fewer than two have.

    `featurized` (the features of each example, in order) saves computing them again.
    """
    labels = learnable_topics(examples, settings.min_items)
    if len(labels) < 2:
        return None
    if featurized is None:
        featurized = [features(e.title, e.text, settings) for e in examples]
    rows = sorted(((_stable_key(e), feats, tuple(k for k in e.topics if k in labels))
                   for e, feats in zip(examples, featurized)), key=lambda row: row[0])
    rows = [(key, feats, topics) for key, feats, topics in rows if topics]
    model, counts, totals = _fit(rows, labels, settings)
    model.temperature = _fit_temperature(model, rows, counts, totals)
    return model


def _fit(rows, labels: tuple[str, ...], settings: LearnSettings):
    """The model (temperature 1) with its per-feature counts and per-topic totals."""
    index = {label: i for i, label in enumerate(labels)}
    document_frequency: Counter = Counter()
    for _, feats, _ in rows:
        document_frequency.update(feats.keys())
    vocabulary = sorted(f for f, n in document_frequency.items() if n >= settings.min_df)
    counts: dict[str, list[float]] = {f: [0.0] * len(labels) for f in vocabulary}
    totals = [0.0] * len(labels)
    items = [0] * len(labels)
    for _, feats, topics in rows:
        for topic in topics:
            i = index[topic]
            items[i] += 1
            for feature, amount in feats.items():
                row = counts.get(feature)
                if row is not None:
                    row[i] += amount
                    totals[i] += amount
    alpha, size = settings.alpha, max(1, len(vocabulary))
    denominators = [t + alpha * size for t in totals] + [sum(totals) + alpha * size]
    log = math.log
    weights = {}
    for feature in vocabulary:
        row = counts[feature]
        weights[feature] = tuple(log((c + alpha) / d) for c, d in zip(row + [sum(row)], denominators))
    all_items = sum(items)
    log_priors = tuple(math.log(n * len(labels) / all_items) for n in items)
    return TopicModel(labels, log_priors, weights, 1.0, settings), counts, totals


def _fit_temperature(model: TopicModel, rows, counts: dict[str, list[float]], totals: list[float]) -> float:
    """The temperature with the least log-loss on the training items, each left out of the counts.

    Leaving one item out of naive Bayes only changes its own topics' counts (and the
    pooled ones), so every item is scored as if held out, at the cost of one pass.
    """
    settings, labels = model.settings, model.labels
    index = {label: i for i, label in enumerate(labels)}
    alpha, size = settings.alpha, max(1, len(model.weights))
    pooled_total = sum(totals)
    log = math.log
    held = []
    for _, feats, topics in rows:
        known = [f for f in feats if f in counts]
        if not known:
            continue
        amounts = [feats[f] for f in known]
        total = sum(amounts)
        scored = model.scores(feats)
        topic_scores, _ = scored
        own = [index[t] for t in topics]
        topic_scores = list(topic_scores)
        for i in own:
            denominator = totals[i] - total + alpha * size
            if denominator <= alpha * size:
                continue
            topic_scores[i] = sum(a * log(max(0.0, counts[f][i] - a) + alpha) for f, a in zip(known, amounts)) / total \
                - log(denominator)
        removed = total * len(own)
        pooled = sum(a * log(max(0.0, sum(counts[f]) - a * len(own)) + alpha) for f, a in zip(known, amounts)) / total \
            - log(pooled_total - removed + alpha * size)
        held.append(((topic_scores, pooled), own))
    if not held:
        return 8.0
    best = None
    for temperature in settings.temperatures:
        loss = 0.0
        for scored, truth in held:
            probs = _softmax(scored, model.log_priors, temperature, settings.other_bias)
            loss -= math.log(max(1e-12, sum(probs[i] for i in truth)))
        if best is None or loss < best[0] - 1e-9:
            best = (loss, float(temperature))
    return best[1]


def _stable_key(example: Example) -> str:
    digest = hashlib.sha256()
    for part in (example.title, example.text, "\x1f".join(example.topics)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _settings_json(settings: LearnSettings) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


def training_key(examples: Sequence[Example], settings: LearnSettings) -> str:
    """A hash of the training data (in any order) and the settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": MODEL_VERSION, "settings": _settings_json(settings)},
                             sort_keys=True).encode())
    for key in sorted(_stable_key(e) for e in examples):
        digest.update(key.encode())
    return digest.hexdigest()


def load_or_train(examples: Sequence[Example], settings: LearnSettings = LearnSettings(),
                  cache_dir: Path | None = None) -> TopicModel | None:
    """The model for `examples`, from the cache when it holds the same training data and settings.

    A cache file that cannot be read or does not fit is discarded and the model trained
    again; a cache that cannot be written is skipped.
    """
    if len(learnable_topics(examples, settings.min_items)) < 2:
        return None
    key = training_key(examples, settings)
    path = cache_dir / CACHE_FILE if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                return TopicModel.from_json(json.load(stream), key, settings)
        except Exception:  # corrupt, truncated or stale: train again
            try:
                path.unlink()
            except OSError:
                pass
    model = train(examples, settings)
    if model is not None and path is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with gzip.GzipFile(temporary, "wb", mtime=0) as raw:
                raw.write(json.dumps(model.to_json(key), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            os.replace(temporary, path)
        except OSError:
            pass
    return model


# -- evaluation -----------------------------------------------------------------------------

@dataclass
class TopicScore:
    topic: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass
class Evaluation:
    """Held-out results of one way of filing: per topic, macro F1 and the confusion table."""

    name: str
    topics: list[TopicScore]
    confusion: dict[str, Counter]  # true first topic -> predicted first topic (or "—")
    filed: int = 0  # items the way filed by itself (for the learned model: above the threshold)
    total: int = 0

    @property
    def macro_f1(self) -> float:
        return sum(t.f1 for t in self.topics) / len(self.topics) if self.topics else 0.0


NONE = "—"


def score(name: str, truth: Sequence[tuple[str, ...]], predicted: Sequence[tuple[str, ...]],
          topics: Sequence[str], filed: int = 0) -> Evaluation:
    """Per-topic precision, recall and F1 of `predicted` topic sets against `truth`."""
    scores = []
    for topic in topics:
        tp = sum(1 for t, p in zip(truth, predicted) if topic in t and topic in p)
        fp = sum(1 for t, p in zip(truth, predicted) if topic not in t and topic in p)
        fn = sum(1 for t, p in zip(truth, predicted) if topic in t and topic not in p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(TopicScore(topic, tp + fn, precision, recall, f1))
    confusion: dict[str, Counter] = defaultdict(Counter)
    for t, p in zip(truth, predicted):
        confusion[t[0] if t else NONE][p[0] if p else NONE] += 1
    return Evaluation(name, scores, dict(confusion), filed, len(truth))


def fold_of(examples: Sequence[Example], folds: int) -> list[int]:
    """A fold for each example: stratified by first topic, fixed by content."""
    order = sorted(range(len(examples)), key=lambda i: (examples[i].topics[:1], _stable_key(examples[i]), i))
    result = [0] * len(examples)
    by_topic: dict[tuple, int] = defaultdict(int)
    for i in order:
        group = examples[i].topics[:1]
        result[i] = by_topic[group] % folds
        by_topic[group] += 1
    return result


def cross_validate(examples: Sequence[Example], settings: LearnSettings, *, folds: int = 5,
                   threshold: float = 0.6, max_topics: int = 3, keyword_filing=None,
                   fallback: str | None = None, progress=None) -> list[Evaluation]:
    """k-fold held-out evaluation of the learned filing.

    Gives up to three evaluations over the topics the model learns: the model alone
    (abstaining below `threshold`), the keyword rules alone (`keyword_filing(title, text)`)
    and the filing a build does: the model above the threshold, else the keyword rules,
    else `fallback`.
    """
    featurized = [features(e.title, e.text, settings) for e in examples]
    assignment = fold_of(examples, folds)
    learned: list[tuple[str, ...]] = [()] * len(examples)
    for k in range(folds):
        train_idx = [i for i in range(len(examples)) if assignment[i] != k]
        model = train([examples[i] for i in train_idx], settings, featurized=[featurized[i] for i in train_idx])
        if model is not None:
            for i in range(len(examples)):
                if assignment[i] == k:
                    learned[i] = choose(model.probabilities_of(featurized[i]), threshold, max_topics)
        if progress is not None:
            progress(k + 1, folds)
    topics = learnable_topics(examples, settings.min_items)
    truth = [e.topics for e in examples]
    filed = sum(1 for p in learned if p)
    results = [score("learned model alone", truth, learned, topics, filed)]
    if keyword_filing is not None:
        keywords = [tuple(keyword_filing(e.title, e.text)) for e in examples]
        results.append(score("keyword rules alone", truth,
                             [k or ((fallback,) if fallback else ()) for k in keywords], topics,
                             sum(1 for k in keywords if k)))
        combined = [p or k or ((fallback,) if fallback else ()) for p, k in zip(learned, keywords)]
        results.append(score("learned filing (model, then keyword rules)", truth, combined, topics, filed))
    return results


def format_evaluation(evaluation: Evaluation, *, confusion: bool = True) -> str:
    """A plain-text table: per topic precision, recall, F1 and support; macro F1; the confusion table."""
    width = max([len("topic"), len("macro"), *(len(t.topic) for t in evaluation.topics)])
    lines = [evaluation.name,
             f"  {'topic':<{width}}  precision  recall     F1  items"]
    for t in evaluation.topics:
        lines.append(f"  {t.topic:<{width}}  {t.precision:9.3f}  {t.recall:6.3f}  {t.f1:5.3f}  {t.support:5d}")
    lines.append(f"  {'macro':<{width}}  {'':9}  {'':6}  {evaluation.macro_f1:5.3f}")
    if evaluation.total:
        lines.append(f"  filed by itself: {evaluation.filed} of {evaluation.total} items "
                     f"({100 * evaluation.filed / evaluation.total:.1f}%)")
    if confusion and evaluation.confusion:
        rows = [t.topic for t in evaluation.topics]
        columns = sorted({p for row in evaluation.confusion.values() for p in row} - set(rows) - {NONE})
        columns = rows + columns + ([NONE] if any(row.get(NONE) for row in evaluation.confusion.values()) else [])
        rows += sorted(set(evaluation.confusion) - set(rows))
        cell = max(5, *(len(c) for c in columns))
        lines.append("  confusion (rows: the item's first topic; columns: the first topic filed, "
                     f"{NONE} for none)")
        lines.append(f"  {'':<{width}}  " + " ".join(f"{c:>{cell}}" for c in columns))
        for row in rows:
            counts = evaluation.confusion.get(row, Counter())
            lines.append(f"  {row:<{width}}  " + " ".join(f"{counts.get(c, 0):>{cell}}" for c in columns))
    return "\n".join(lines)
