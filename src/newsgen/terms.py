"""What an item is about, as counts of its words: the input of related items (`newsgen.related`).

Counted once per version of an item file, when it is read (in worker processes for
large archives), and kept in the build cache in a compact form (`TermCounts`), so a
build does not read every text of the archive again. Nothing here needs numpy, so
commands that never rank related items do not import it.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import lru_cache

from .arabic import STOP_WORDS, normalize, words

TEXT_CHARS = 2500
TITLE_WEIGHT = 2
_ARTICLE_PREFIXES = ("وبال", "فبال", "وكال", "فكال", "وال", "فال", "بال", "كال", "ولل", "فلل", "ال", "لل")


def term(word: str) -> str:
    """A normalized word without a leading article and the clitics before it («والحكومه» -> «حكومه»)."""
    if not word.startswith(_ARTICLE_PREFIXES):  # most words: one test instead of one per prefix
        return word
    for prefix in _ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix):]
    return word


# A text's words are judged one distinct word at a time: an archive has far fewer distinct
# words than word occurrences. The memo is emptied past `_TERM_MEMO_SIZE` words (under 40 MiB)
# so that a long-running process (newsgen serve) stays small; an unbounded `lru_cache` with
# such resets looks words up a fifth faster than a bounded one.
_TERM_MEMO_SIZE = 1 << 18


@lru_cache(maxsize=None)
def _counted_term(word: str) -> str | None:
    """The term a normalized word counts for, or None for a word that cannot tell a subject.

    The same words as `arabic.content_words` keeps: no stop words, numbers or one-letter words.
    """
    if len(word) < 2 or word in STOP_WORDS or word.isdigit():
        return None
    return term(word)


def terms_of(title: str, text: str) -> Counter:
    """Term counts of one item: its headline counted `TITLE_WEIGHT` times, then its text's beginning.

    A plain function of its arguments returning a `Counter` (a dict of str -> int), so it can run
    in worker processes and its result be cached; `related_items` accepts any such mapping.
    """
    if _counted_term.cache_info().currsize > _TERM_MEMO_SIZE:
        _counted_term.cache_clear()
    counts = Counter(map(_counted_term, words(text[:TEXT_CHARS])))
    # A text that opens with its headline has already counted it once.
    weight = TITLE_WEIGHT - 1 if title and text.startswith(title) else TITLE_WEIGHT
    for counted in map(_counted_term, words(title)):
        counts[counted] += weight
    del counts[None]
    return counts


def headline_key(title: str) -> str:
    """A headline as compared for "the same headline" (related items never pair two such items)."""
    return normalize(title).strip()


class TermCounts(Mapping):
    """An item's term counts in two objects, the terms joined by newlines and the counts as
    32-bit integers, instead of a dict of hundreds: the build cache of a large archive loads
    several times faster, and `related_items` reads the terms and counts without a dict.

    It also carries what else related items read of an item's text, worked out once with
    the counts: `headline`, the `headline_key` of its headline (None when not known), and
    `digest`, a digest of the counts and the headline. Two versions of an item with the
    same digest rank alike, so an edit that leaves the words counted unchanged (past the
    first `TEXT_CHARS` characters, or of punctuation in a shorter text: in a longer one it moves
    the cut) does not rank the archive again.
    """

    __slots__ = ("words", "counts", "headline", "digest")

    def __init__(self, words: str, counts: bytes, headline: str | None = None, digest: str | None = None):
        self.words = words
        self.counts = counts
        self.headline = headline
        self.digest = digest if digest is not None else hashlib.blake2b(
            "\0".join((headline or "", words)).encode("utf-8") + b"\0" + counts, digest_size=16).hexdigest()

    @classmethod
    def pack(cls, counts: Mapping[str, int], title: str | None = None) -> "TermCounts":
        """The counts packed, with the headline they were counted with (`terms_of(title, ...)`)."""
        return cls("\n".join(counts), array("I", counts.values()).tobytes(),
                   headline_key(title) if title is not None else None)

    def __reduce__(self):
        return TermCounts, (self.words, self.counts, self.headline, self.digest)

    def __iter__(self) -> Iterator[str]:
        return iter(self.words.split("\n") if self.words else ())

    def __len__(self) -> int:
        return len(self.counts) // 4

    def values(self):  # type: ignore[override]
        return array("I", self.counts)

    def items(self):  # type: ignore[override]
        return zip(self, self.values())

    def __getitem__(self, word: str) -> int:
        """One count (a scan: readers of the counts go through `items` or `values`)."""
        for found, count in self.items():
            if found == word:
                return count
        raise KeyError(word)
