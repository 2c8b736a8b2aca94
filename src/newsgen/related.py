"""Related items: what else in the archive is about the same thing.

Each item is reduced to its `TOP_TERMS` strongest words by TF-IDF (normalized,
stop words left out, the article and clitics before it stripped, headline words
counted twice, and only the first `TEXT_CHARS` characters of the body read). An
inverted index maps each word to the items it is strongest in, at most
`POSTING_CAP` of them, so finding the candidates of one item costs at most
TOP_TERMS × POSTING_CAP steps whatever the archive's size. Candidates are ranked by
cosine similarity over those words plus a bonus for each shared topic; ties go to
the item listed first (the newer). Items with the same headline are skipped.

When fewer than `MAX_RELATED` items are similar enough, the list is topped up with
items of the article's first topic nearest to it in time, as before.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Sequence

from .arabic import content_words, normalize
from .model import Article, SiteModel

MAX_RELATED = 5
TOP_TERMS = 20
POSTING_CAP = 48
TEXT_CHARS = 2500
TITLE_WEIGHT = 2
TOPIC_BONUS = 0.08  # added for each shared topic, over the cosine similarity (0 to 1)
MIN_SIMILARITY = 0.08  # text similarity below this does not make an item related

_ARTICLE_PREFIXES = ("وبال", "فبال", "وكال", "فكال", "وال", "فال", "بال", "كال", "ولل", "فلل", "ال", "لل")


def term(word: str) -> str:
    """A normalized word without a leading article and the clitics before it («والحكومه» -> «حكومه»)."""
    for prefix in _ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix):]
    return word


def terms_of(title: str, text: str) -> Counter:
    """Term counts of one item: its headline counted `TITLE_WEIGHT` times, then its text's beginning."""
    counts = Counter(term(w) for w in content_words(text[:TEXT_CHARS]))
    for word in content_words(title):
        counts[term(word)] += TITLE_WEIGHT - 1 if title and text.startswith(title) else TITLE_WEIGHT
    return counts


def top_vectors(documents: Sequence[Counter], limit: int = TOP_TERMS) -> list[dict[str, float]]:
    """Each document's `limit` strongest terms by TF-IDF, as a unit vector.

    Terms found in only one document cannot relate it to another and are left out.
    """
    frequency: Counter = Counter()
    for counts in documents:
        frequency.update(counts.keys())
    total = len(documents)
    vectors = []
    for counts in documents:
        weighted = [((1.0 + math.log(n)) * math.log(total / frequency[t]), t)
                    for t, n in counts.items() if frequency[t] > 1]
        weighted.sort(key=lambda pair: (-pair[0], pair[1]))
        top = [(t, w) for w, t in weighted[:limit] if w > 0]
        norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
        vectors.append({t: w / norm for t, w in top})
    return vectors


def inverted_index(vectors: Sequence[dict[str, float]], cap: int = POSTING_CAP) -> dict[str, list[tuple[int, float]]]:
    """Term -> the (document, weight) pairs where it weighs most, at most `cap` of them."""
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, vector in enumerate(vectors):
        for t, w in vector.items():
            postings[t].append((i, w))
    for t, entries in postings.items():
        if len(entries) > cap:
            entries.sort(key=lambda pair: (-pair[1], pair[0]))
            del entries[cap:]
    return postings


def similar(vectors: Sequence[dict[str, float]], topics: Sequence[tuple[str, ...]], titles: Sequence[str],
            limit: int = MAX_RELATED) -> list[list[int]]:
    """For each document, up to `limit` others most like it, best first."""
    postings = inverted_index(vectors)
    result = []
    for i, vector in enumerate(vectors):
        scores: dict[int, float] = defaultdict(float)
        for t, w in vector.items():
            for j, w2 in postings[t]:
                scores[j] += w * w2
        scores.pop(i, None)
        own_topics = set(topics[i])
        ranked = []
        for j, similarity in scores.items():
            if similarity < MIN_SIMILARITY or titles[j] == titles[i]:
                continue
            shared = len(own_topics.intersection(topics[j]))
            ranked.append((-(similarity + TOPIC_BONUS * shared), j))
        ranked.sort()
        result.append([j for _, j in ranked[:limit]])
    return result


def related_items(model: SiteModel, limit: int = MAX_RELATED) -> dict[str, tuple[str, ...]]:
    """Slug -> the slugs of up to `limit` related items, best first; never the item itself."""
    articles = model.articles
    vectors = top_vectors([terms_of(a.title, a.text) for a in articles])
    titles = [normalize(a.title).strip() for a in articles]
    found = similar(vectors, [a.topic_keys for a in articles], titles, limit)
    positions = {t.key: {slug: i for i, slug in enumerate(t.article_slugs)} for t in model.topics}
    topics = {t.key: t for t in model.topics}
    result = {}
    for article, picks in zip(articles, found):
        slugs = [articles[j].slug for j in picks]
        if len(slugs) < limit:
            for slug in nearest_in_topic(article, topics, positions, limit):
                if slug not in slugs and len(slugs) < limit:
                    slugs.append(slug)
        result[article.slug] = tuple(slugs)
    return result


def nearest_in_topic(article: Article, topics: dict, positions: dict, limit: int) -> list[str]:
    """Items of the article's first topic nearest to it in time: older ones first."""
    if not article.topic_keys or article.topic_keys[0] not in topics:
        return []
    topic = topics[article.topic_keys[0]]
    position = positions[topic.key][article.slug]
    slugs = topic.article_slugs
    older = list(slugs[position + 1: position + 1 + limit])
    newer = list(reversed(slugs[max(0, position - limit):position]))
    return (older + newer)[:limit]
