"""Related items: what else in the archive is about the same thing.

Each item is reduced to its `TOP_TERMS` strongest words by TF-IDF (normalized,
stop words left out, the article and clitics before it stripped, headline words
counted twice, and only the first `TEXT_CHARS` characters of the body read). An
inverted index maps each word to the items it is strongest in, at most
`POSTING_CAP` of them, so finding the candidates of one item costs at most
TOP_TERMS × POSTING_CAP steps whatever the archive's size. Candidates are ranked by
cosine similarity over those words plus a bonus for each shared topic. Items with
the same headline are skipped.

When fewer than `MAX_RELATED` items are similar enough, the list is topped up with
items of the article's first topic nearest to it in time, as before.

The term vectors and the index are sparse matrices in numpy arrays (items × terms and
terms × items), worked on a block of items at a time, so that memory stays bounded by
the block, not by the square of the archive. Results depend only on the items' order
and term counts, never on the order of a mapping: ties between terms of an item go to
the term first in code-point order, ties in a posting list to the item listed first,
and ties between candidates to the item listed first (the newer). Weights and scores
nearer than 2**-24 count as tied.
"""

from __future__ import annotations

import secrets
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, count, islice, repeat

import numpy as np

from .model import Article, SiteModel
from .terms import TermCounts, headline_key, term, terms_of  # noqa: F401  (term: part of this module's API)

MAX_RELATED = 5
TOP_TERMS = 20
POSTING_CAP = 48
TOPIC_BONUS = 0.08  # added for each shared topic, over the cosine similarity (0 to 1)
MIN_SIMILARITY = 0.08  # text similarity below this does not make an item related

# -- Arrays ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SparseRows:
    """A sparse matrix stored by rows (CSR).

    Row r has the entries `indptr[r]` to `indptr[r + 1] - 1`, each a column in `indices` and a
    value in `data`.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    width: int

    @classmethod
    def from_sorted(cls, rows: np.ndarray, columns: np.ndarray, values: np.ndarray, height: int,
                    width: int) -> SparseRows:
        """The matrix of entries listed row by row."""
        return cls(np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=height)))), columns, values, width)

    @property
    def height(self) -> int:
        return len(self.indptr) - 1

    def entry_rows(self) -> np.ndarray:
        """The row of each entry."""
        return np.repeat(np.arange(self.height), np.diff(self.indptr))

    def rows(self, start: int, stop: int) -> SparseRows:
        """Rows start to stop - 1, as a matrix of their own."""
        begin, end = self.indptr[start], self.indptr[stop]
        return SparseRows(self.indptr[start:stop + 1] - begin, self.indices[begin:end], self.data[begin:end],
                          self.width)

    def take(self, rows: np.ndarray) -> SparseRows:
        """The given rows, in that order, as a matrix of their own."""
        begin, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        positions, _ = _expand(begin, lengths)
        return SparseRows(np.concatenate(([0], np.cumsum(lengths))), self.indices[positions], self.data[positions],
                          self.width)

    def row(self, r: int) -> tuple[list, list]:
        """The columns and values of row r."""
        begin, end = self.indptr[r], self.indptr[r + 1]
        return self.indices[begin:end].tolist(), self.data[begin:end].tolist()


def _blocks(costs: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive ranges (start, stop) of rows whose costs add up to at most `budget` (or one row).

    Work done a block at a time then holds arrays of a fixed size, whatever the archive's.
    """
    total = np.cumsum(costs)
    blocks, start = [], 0
    while start < len(costs):
        spent = total[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(total, spent + budget, side="right")))
        blocks.append((start, stop))
        start = stop
    return blocks


def _sort_order(keys: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """Indices that sort by several non-negative integer keys, the first the most significant.

    Each key comes with a bound its values stay below. When the bounds fit in 63 bits the keys
    are packed into one int64 and sorted once, many times faster than `np.lexsort`.
    """
    widths = [max(1, int(bound - 1).bit_length()) for _, bound in keys]
    if sum(widths) > 63:
        return np.lexsort([values for values, _ in reversed(keys)])
    packed = np.zeros(len(keys[0][0]), np.int64)
    for (values, _), width in zip(keys, widths):
        packed <<= width
        packed |= values
    return np.argsort(packed, kind="stable")


# Weights and scores are compared as multiples of 2**-24: values nearer than that are ordered by
# the next key (the term, the item), not by noise in their last bits, which can differ between
# builds of numpy's logarithm.
_KEY_STEPS = float(1 << 24)


def _descending_key(values: np.ndarray) -> tuple[np.ndarray, int]:
    """A non-negative integer for each value, smaller for a larger value, and a bound above them all."""
    steps = np.rint(values * _KEY_STEPS).astype(np.int64)
    top = int(steps.max(initial=0))
    return top - steps, top + 1


def _place_in_group(groups: np.ndarray, group_count: int) -> np.ndarray:
    """For sorted group labels, each element's place within its group: 0, 1, 2..."""
    sizes = np.bincount(groups, minlength=group_count)
    return np.arange(len(groups)) - (np.cumsum(sizes) - sizes)[groups]


def _expand(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every position of the runs starts[k], starts[k] + 1... (lengths[k] of them), and its run k."""
    run = np.repeat(np.arange(len(starts)), lengths)
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) + (starts - (ends - lengths))[run], run


# -- Term vectors and the inverted index ----------------------------------------------------


@dataclass(frozen=True, eq=False)
class TermVectors(Sequence):
    """Each document's strongest terms as a unit vector: row i of `matrix` (documents × terms).

    Column c stands for `terms[c]`; the terms are in code-point order, so the columns do not
    depend on the order in which the documents list their terms. Each row lists its terms
    strongest first. `vectors[i]` is row i as a {term: weight} dict, for reading.
    """

    matrix: SparseRows
    terms: tuple[str, ...]

    def __len__(self) -> int:
        return self.matrix.height

    def __getitem__(self, index: int) -> dict[str, float]:
        columns, weights = self.matrix.row(range(len(self))[index])
        return {self.terms[c]: w for c, w in zip(columns, weights)}


@dataclass(frozen=True, eq=False)
class Postings(Mapping):
    """Term -> the (document, weight) pairs where it weighs most, by document.

    Row t of `matrix` (terms × documents) holds the pairs of `terms[t]`; terms in no document's
    vector are left out of the mapping.
    """

    matrix: SparseRows
    terms: tuple[str, ...]

    def __getitem__(self, key: str) -> list[tuple[int, float]]:
        row = bisect_left(self.terms, key)
        if row == len(self.terms) or self.terms[row] != key or self.matrix.indptr[row] == self.matrix.indptr[row + 1]:
            raise KeyError(key)
        return list(zip(*self.matrix.row(row)))

    def __iter__(self):
        return (self.terms[row] for row in np.flatnonzero(np.diff(self.matrix.indptr)).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(np.diff(self.matrix.indptr)))


# Entries of the documents' term counts, or (document, candidate) pairs, worked on at once: each
# costs some 80 bytes in the arrays derived from it, so a block stays within about 5 MiB.
_BLOCK_ENTRIES = 1 << 16


class Vocabulary:
    """Term ids: a term gets the next id when first seen, and keeps it while the vocabulary lives.

    The build cache saves the terms by id and each record's ids (see `build.related_lists`), so
    that a build looks up only the terms of the items it read again, and serve keeps one in
    memory. `token` names the vocabulary that ids belong to. Ids are internal: columns still
    follow code-point order.
    """

    def __init__(self, terms: Sequence[str] = (), token: str | None = None) -> None:
        # A new term gets the next id as it is first looked up (a C-level lookup per entry);
        # the dict keeps insertion order, so the terms by id are its keys in order.
        self.ids: dict[str, int] = defaultdict(count(len(terms)).__next__)
        self.ids.update(zip(terms, range(len(terms))))
        self._terms: list[str] = list(terms)
        self.token = token or secrets.token_hex(8)
        self.in_use = 0  # how many terms the documents last ranked have (0: none ranked with it yet)
        self._columns: tuple[np.ndarray, tuple[str, ...]] | None = None
        self._titles: dict[str, str] = {}

    @property
    def terms(self) -> list[str]:
        """The terms by id."""
        if len(self._terms) < len(self.ids):
            self._terms.extend(islice(self.ids, len(self._terms), None))
        return self._terms

    def titles(self, articles: Sequence[Article], documents: Sequence[Mapping[str, int]] = ()) -> list[str]:
        """Each article's `headline_key`: from its counts (`documents[i]`) when they carry it, or
        normalized here once per headline."""
        known, self._titles = self._titles, {}
        result = []
        for article, document in zip(articles, chain(documents, repeat(None))):
            headline = getattr(document, "headline", None)
            if headline is None:
                title = article.title
                headline = self._titles[title] = known[title] if title in known else headline_key(title)
            result.append(headline)
        return result

    def ids_of(self, document: Mapping[str, int]) -> bytes:
        """The ids of the document's terms, in its order, as packed 32-bit integers."""
        return np.fromiter(map(self.ids.__getitem__, document), np.int32, len(document)).tobytes()

    def entries(self, documents: Sequence[Mapping[str, int]], known: Sequence[bytes | None] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """The term ids and counts of all documents, one document after another; `known[i]`, when
        given, is `ids_of(documents[i])` from before."""
        known = known if known is not None else [None] * len(documents)
        ids = np.frombuffer(b"".join([packed if packed is not None else self.ids_of(document)
                                      for document, packed in zip(documents, known)]), np.int32)
        self.in_use = int(np.count_nonzero(_occurrences(ids, len(self.terms))))
        return ids, _all_counts(documents, len(ids))

    def columns(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """The column of each id, and the terms by column (code-point order)."""
        terms = self.terms
        if self._columns is None or len(self._columns[0]) != len(terms):
            order = sorted(range(len(terms)), key=terms.__getitem__)
            columns = np.empty(len(terms), np.int32)
            columns[np.array(order, np.int64)] = np.arange(len(terms), dtype=np.int32)
            self._columns = (columns, tuple(map(terms.__getitem__, order)))
        return self._columns


def _occurrences(values: np.ndarray, size: int, where: np.ndarray | None = None) -> np.ndarray:
    """`np.bincount(values[where], minlength=size)` a block at a time: for the whole array at once,
    bincount makes a copy of it as 64-bit integers (11 MiB for the term entries of 10,000 items)."""
    found = np.zeros(size, np.int64)
    for start in range(0, len(values), _BLOCK_ENTRIES):
        block = values[start:start + _BLOCK_ENTRIES]
        found += np.bincount(block if where is None else block[where[start:start + _BLOCK_ENTRIES]], minlength=size)
    return found


def _all_counts(documents: Sequence[Mapping[str, int]], total: int) -> np.ndarray:
    """The counts of all documents, one document after another (`total` of them)."""
    if all(type(document) is TermCounts for document in documents):  # their counts are packed already
        return np.frombuffer(b"".join(document.counts for document in documents), np.uint32)  # read-only: not copied
    return np.fromiter(chain.from_iterable(document.values() for document in documents), np.int32, total)


def _strongest_terms(counted: SparseRows, frequency: np.ndarray, total: int, limit: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document, column, TF-IDF weight) of the `limit` strongest terms of each document, by document.

    `counted` holds some documents' term counts by column; `frequency[c]` is how many of all
    `total` documents of the archive have term c.
    """
    rows, columns, counts = counted.entry_rows(), counted.indices, counted.data
    found = frequency[columns]
    useful = (counts > 0) & (found > 1) & (found < total)
    rows, columns, counts, found = rows[useful], columns[useful], counts[useful], found[useful]
    weights = (1.0 + np.log(counts)) * np.log(total / found)
    key, bound = _descending_key(weights)
    order = _sort_order([(rows, counted.height), (key, bound), (columns, counted.width)])
    rows, columns, weights = rows[order], columns[order], weights[order]
    strongest = _place_in_group(rows, counted.height) < limit
    return rows[strongest], columns[strongest], weights[strongest]


def top_vectors(documents: Sequence[Mapping[str, int]], limit: int = TOP_TERMS,
                vocabulary: Vocabulary | None = None, known: Sequence[bytes | None] | None = None) -> TermVectors:
    """Each document's `limit` strongest terms by TF-IDF, as a unit vector.

    Terms found in only one document cannot relate it to another and are left out, as are terms
    found in every one (they weigh nothing). Ties go to the term first in code-point order.
    `known` is as for `Vocabulary.entries`.
    """
    total = len(documents)
    vocabulary = vocabulary if vocabulary is not None else Vocabulary()
    ids, counts = vocabulary.entries(documents, known)
    column_of_id, terms = vocabulary.columns()
    columns = column_of_id[ids]
    del ids  # 4 bytes an entry: 5 MiB at 10,000 items
    frequency = _occurrences(columns, len(terms), counts > 0)  # a term counted 0 times is not in the document
    sizes = np.fromiter(map(len, documents), np.int64, total)
    counted = SparseRows(np.concatenate(([0], np.cumsum(sizes))), columns, counts, len(terms))
    parts = [(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0))]
    for start, stop in _blocks(sizes, _BLOCK_ENTRIES):
        rows, kept, weights = _strongest_terms(counted.rows(start, stop), frequency, total, limit)
        parts.append((rows + start, kept, weights))
    row, column, weight = (np.concatenate(part) for part in zip(*parts))
    weight /= np.sqrt(np.bincount(row, weight * weight, minlength=total))[row]
    return TermVectors(SparseRows.from_sorted(row, column, weight, total, len(terms)), terms)


def inverted_index(vectors: TermVectors, cap: int = POSTING_CAP) -> Postings:
    """Term -> the (document, weight) pairs where it weighs most, at most `cap` of them, by document.

    Ties for the last places go to the document listed first.
    """
    return Postings(_posting_lists(vectors.matrix, cap), vectors.terms)


def _posting_lists(matrix: SparseRows, cap: int | None = None) -> SparseRows:
    """`inverted_index` of term vectors as a matrix (terms × documents), `POSTING_CAP` documents a term."""
    cap = POSTING_CAP if cap is None else cap
    documents, columns, weights = matrix.entry_rows(), matrix.indices, matrix.data
    key, bound = _descending_key(weights)
    order = _sort_order([(columns, matrix.width), (key, bound), (documents, matrix.height)])
    columns, documents, weights = columns[order], documents[order], weights[order]
    kept = _place_in_group(columns, matrix.width) < cap
    columns, documents, weights = columns[kept], documents[kept], weights[kept]
    # Each list by document, so that the candidates read from it come in ascending runs (see _candidates).
    order = _sort_order([(columns, matrix.width), (documents, matrix.height)])
    return SparseRows.from_sorted(columns[order], documents[order], weights[order], matrix.width, matrix.height)


# -- Ranking ---------------------------------------------------------------------------------


def _labels(values: Sequence) -> np.ndarray:
    """A number for each value; equal values get equal numbers."""
    ids: dict = defaultdict(count().__next__)
    return np.fromiter(map(ids.__getitem__, values), np.int64, len(values))


def _topic_table(topics: Sequence[tuple[str, ...]]) -> np.ndarray:
    """Documents × their distinct topics as numbers, padded with -1."""
    sizes = np.fromiter(map(len, topics), np.int64, len(topics))
    table = np.full((len(topics), max(1, int(sizes.max(initial=0)))), -1, np.int64)
    rows = np.repeat(np.arange(len(topics)), sizes)
    table[rows, _place_in_group(rows, len(topics))] = _labels(list(chain.from_iterable(topics)))
    for later in range(1, table.shape[1]):  # a topic listed twice counts once
        repeated = (table[:, :later] == table[:, later:later + 1]).any(axis=1)
        table[repeated, later] = -1
    return table


def _shared_topics(table: np.ndarray, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """How many topics each pair (rows[k], others[k]) has in common."""
    own, their = table[rows], table[others]
    shared = np.zeros(len(rows), np.int64)
    for a in range(table.shape[1]):
        known = own[:, a] >= 0
        for b in range(table.shape[1]):
            shared += known & (own[:, a] == their[:, b])
    return shared


def _candidates(block: SparseRows, postings: SparseRows, lengths: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document, candidate, similarity) for the documents whose vectors are the rows of `block`.

    One triple for each document in the postings of a document's terms (`lengths[t]` of them for
    term t), listed by document (its row in `block`) and candidate. The similarity adds up the products of a term's weights in
    both, term by term in the order of the document's vector, so it is the same in every run.
    """
    owners, terms, weights = block.entry_rows(), block.indices, block.data
    posting, entry = _expand(postings.indptr[terms], lengths[terms])
    pair = owners[entry] * np.int64(postings.width) + postings.indices[posting]
    products = weights[entry] * postings.data[posting]
    # The pairs come in ascending runs, one per term, which a stable sort merges quickly; being
    # stable, it also keeps each pair's products in the vector's order for the sums.
    order = np.argsort(pair, kind="stable")
    pair, products = pair[order], products[order]
    first = np.concatenate(([True], pair[1:] != pair[:-1])) if len(pair) else np.zeros(0, bool)
    similarity = np.bincount(np.cumsum(first) - 1, products)
    pair = pair[first]
    return pair // postings.width, pair % postings.width, similarity


def _rank(local: np.ndarray, others: np.ndarray, similarity: np.ndarray, owners: np.ndarray,
          titles: np.ndarray, topics: np.ndarray, limit: int) -> list[list[int]]:
    """Up to `limit` best candidates for each document `owners[k]` (`local` k), best first."""
    rows, size = owners[local], len(owners)
    eligible = (similarity >= MIN_SIMILARITY) & (others != rows) & (titles[others] != titles[rows])
    local, rows, others, similarity = local[eligible], rows[eligible], others[eligible], similarity[eligible]
    score = similarity + TOPIC_BONUS * _shared_topics(topics, rows, others)
    key, bound = _descending_key(score)
    order = _sort_order([(local, size), (key, bound), (others, len(titles))])
    local, others = local[order], others[order]
    best = _place_in_group(local, size) < limit
    ends = np.cumsum(np.bincount(local[best], minlength=size)).tolist()
    picks = others[best].tolist()
    return [picks[begin:end] for begin, end in zip([0] + ends[:-1], ends)]


def _similar_rows(matrix: SparseRows, postings: SparseRows, owners: np.ndarray, titles: np.ndarray,
                  topics: np.ndarray, limit: int) -> list[list[int]]:
    """For each document `owners[k]` (a row of `matrix`), up to `limit` others most like it,
    best first.

    Documents are scored a block at a time, a block holding at most `_BLOCK_ENTRIES` postings
    to read (or one document), so memory does not grow with the square of the archive. What a
    document gets depends on its own row, the postings and the others' titles, topics and order,
    never on which other documents are scored with it.
    """
    lengths = np.diff(postings.indptr)
    chosen = matrix if len(owners) == matrix.height and bool((owners == np.arange(matrix.height)).all()) \
        else matrix.take(owners)
    reads = np.bincount(chosen.entry_rows(), lengths[chosen.indices], minlength=chosen.height)
    result: list[list[int]] = []
    for start, stop in _blocks(reads, _BLOCK_ENTRIES):
        local, others, similarity = _candidates(chosen.rows(start, stop), postings, lengths)
        result.extend(_rank(local, others, similarity, owners[start:stop], titles, topics, limit))
    return result


@dataclass(frozen=True, eq=False)
class Ranking:
    """One ranking's inputs and what `_similar_rows` found, kept so that the next can rank again only
    the documents an edit can change.

    Row i is the document at `paths[i]`, whose term counts have the digest `words[i]` (None:
    not known); `vectors` holds the term vectors (columns: the terms in use, in code-point
    order) and `postings` the inverted index of them; `found[i]` the rows most like row i.
    """

    paths: tuple[str, ...]
    words: tuple[str | None, ...]
    titles: tuple[str, ...]
    topics: tuple[tuple[str, ...], ...]
    vectors: SparseRows
    postings: SparseRows
    found: list[list[int]]
    limit: int

    def keeps_words(self, paths: Sequence[str], words: Sequence[str | None], limit: int) -> bool:
        """Whether the documents are the ones ranked, with the same term counts (in any order):
        then each has the same term vector as before, and the same postings but for ties."""
        return (limit == self.limit and len(paths) == len(self.paths) == len(set(paths)) and None not in words
                and dict(zip(self.paths, self.words)) == dict(zip(paths, words)))


def rank(documents: Sequence[Mapping[str, int]], paths: Sequence[str], words: Sequence[str | None],
         titles: Sequence[str], topics: Sequence[tuple[str, ...]], limit: int = MAX_RELATED,
         vocabulary: Vocabulary | None = None, known: Sequence[bytes | None] | None = None,
         previous: Ranking | None = None) -> Ranking:
    """For each document, up to `limit` others most like it, best first, as a `Ranking`. When
    `previous` ranked the same documents with the same term counts (an edit of topics or dates,
    not of words), only the documents whose results the changes can reach are ranked again;
    the result is the same."""
    paths, words, titles = tuple(paths), tuple(words), tuple(titles)
    topics = tuple(map(tuple, topics))
    if previous is not None and previous.keeps_words(paths, words, limit):
        return _rank_again(previous, paths, words, titles, topics)
    vectors = top_vectors(documents, vocabulary=vocabulary, known=known).matrix
    used, columns = np.unique(vectors.indices, return_inverse=True)
    vectors = SparseRows(vectors.indptr, columns.astype(np.int32), vectors.data, len(used))
    postings = _posting_lists(vectors)
    found = _similar_rows(vectors, postings, np.arange(vectors.height), _labels(titles), _topic_table(topics), limit)
    return Ranking(paths, words, titles, topics, vectors, postings, found, limit)


def _rank_again(previous: Ranking, paths: tuple[str, ...], words: tuple[str | None, ...], titles: tuple[str, ...],
                topics: tuple[tuple[str, ...], ...]) -> Ranking:
    """`rank` when every document keeps its term vector: documents whose topics or headline
    changed, or that moved in the order, are ranked again, with every document that has one of
    them among its candidates or reads a posting list that changed. The others' candidates,
    similarities and order are as before, and so are their results."""
    size = len(paths)
    row_of = {path: row for row, path in enumerate(previous.paths)}
    before = np.fromiter(map(row_of.__getitem__, paths), np.int64, size)  # new row -> its old row
    after = np.empty(size, np.int64)
    after[before] = np.arange(size)
    same_order = bool((before == np.arange(size)).all())
    if same_order:
        vectors, postings = previous.vectors, previous.postings
        changed_terms = np.zeros(0, np.int64)
    else:
        vectors = previous.vectors.take(before)
        postings = _posting_lists(vectors)
        changed_terms = _changed_lists(previous.postings, postings, after)
    changed = np.zeros(size, bool)
    old_titles, old_topics = previous.titles, previous.topics
    changed[[row for row, old in enumerate(before.tolist())
             if titles[row] != old_titles[old] or topics[row] != old_topics[old]]] = True
    if not same_order:
        changed[_moved(before)] = True
    terms = np.zeros(vectors.width, bool)
    terms[changed_terms] = True
    terms[postings.entry_rows()[changed[postings.indices]]] = True  # lists where a changed document is
    reached = np.bincount(vectors.entry_rows(), terms[vectors.indices], minlength=size) > 0
    owners = np.flatnonzero(changed | reached)
    if same_order:
        found = list(previous.found)
    else:
        moved_to = after.tolist()
        found = [[moved_to[j] for j in previous.found[row]] for row in before.tolist()]
    for row, picks in zip(owners.tolist(), _similar_rows(vectors, postings, owners, _labels(titles),
                                                          _topic_table(topics), previous.limit)):
        found[row] = picks
    return Ranking(paths, words, titles, topics, vectors, postings, found, previous.limit)


def _changed_lists(old: SparseRows, new: SparseRows, after: np.ndarray) -> np.ndarray:
    """The terms whose posting lists differ (`after` maps the old lists' documents to the new)."""
    size = np.int64(new.width + 1)  # documents
    old_keys = old.entry_rows() * size + after[old.indices]
    new_keys = new.entry_rows() * size + new.indices
    _, in_old, in_new = np.intersect1d(old_keys, new_keys, assume_unique=True, return_indices=True)
    same = old.data[in_old] == new.data[in_new]
    kept_old, kept_new = np.zeros(len(old_keys), bool), np.zeros(len(new_keys), bool)
    kept_old[in_old[same]] = True
    kept_new[in_new[same]] = True
    return np.unique(np.concatenate((old.entry_rows()[~kept_old], new.entry_rows()[~kept_new])))


def _moved(before: np.ndarray) -> list[int]:
    """Rows to take out so that the others keep their old order: all but a longest run of rows
    whose old rows increase."""
    tails: list[int] = []  # tails[k]: the smallest old row ending a run of k + 1
    tail_rows: list[int] = []
    previous_in_run = [-1] * len(before)
    for row, old in enumerate(before.tolist()):
        k = bisect_left(tails, old)
        previous_in_run[row] = tail_rows[k - 1] if k else -1
        if k == len(tails):
            tails.append(old)
            tail_rows.append(row)
        else:
            tails[k], tail_rows[k] = old, row
    kept = set()
    row = tail_rows[-1] if tail_rows else -1
    while row >= 0:
        kept.add(row)
        row = previous_in_run[row]
    return [row for row in range(len(before)) if row not in kept]


def related_items(model: SiteModel, limit: int = MAX_RELATED,
                  term_counts: Mapping[str, Mapping[str, int]] | None = None,
                  vocabulary: Vocabulary | None = None, term_ids: Mapping[str, bytes] | None = None
                  ) -> dict[str, tuple[str, ...]]:
    """Slug -> the slugs of up to `limit` related items, best first; never the item itself.

    `term_counts` maps an item's path to its `terms_of(title, text)` (a Counter or any mapping of
    term to count), computed earlier, say when the item was read; items not in it are counted here.
    `term_ids` maps an item's path to the `vocabulary.ids_of` its counts, from an earlier build:
    their terms are not looked up again.
    """
    return related_ranking(model, limit, term_counts, vocabulary, term_ids)[0]


def related_ranking(model: SiteModel, limit: int = MAX_RELATED,
                    term_counts: Mapping[str, Mapping[str, int]] | None = None,
                    vocabulary: Vocabulary | None = None, term_ids: Mapping[str, bytes] | None = None,
                    previous: Ranking | None = None) -> tuple[dict[str, tuple[str, ...]], Ranking]:
    """`related_items`, and the `Ranking` behind them, which the next call can take as `previous`."""
    articles = model.articles
    documents = [_counts(a, term_counts) for a in articles]
    known = [term_ids.get(a.path) for a in articles] if term_ids is not None else None
    vocabulary = vocabulary if vocabulary is not None else Vocabulary()
    titles = vocabulary.titles(articles, documents)
    ranking = rank(documents, [a.path for a in articles], [getattr(d, "digest", None) for d in documents], titles,
                   [a.topic_keys for a in articles], limit, vocabulary, known, previous)
    positions = {t.key: {slug: i for i, slug in enumerate(t.article_slugs)} for t in model.topics}
    topics = {t.key: t for t in model.topics}
    result = {}
    for article, picks in zip(articles, ranking.found):
        slugs = [articles[j].slug for j in picks]
        if len(slugs) < limit:
            for slug in nearest_in_topic(article, topics, positions, limit):
                if slug not in slugs and len(slugs) < limit:
                    slugs.append(slug)
        result[article.slug] = tuple(slugs)
    return result, ranking


def _counts(article: Article, term_counts: Mapping[str, Mapping[str, int]] | None) -> Mapping[str, int]:
    """The article's term counts: given, or counted now."""
    counts = term_counts.get(article.path) if term_counts is not None else None
    return terms_of(article.title, article.text) if counts is None else counts


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
