"""Related items: by shared topics and text, through an inverted index; deterministic and bounded."""

from __future__ import annotations

import pickle
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_site
from newsgen.cli import main
from newsgen.errors import Diagnostics
from newsgen.model import Article
from newsgen import related, terms
from newsgen.arabic import STOP_WORDS, content_words
from newsgen.related import MAX_RELATED, inverted_index, related_items, term, terms_of, top_vectors
from newsgen.config import parse_config
from newsgen.site import build_site_model

STORIES = {
    # key: (topic, words of the story)
    "dam": ("economy", "سد النهضة مياه النيل مفاوضات إثيوبيا السودان التوربينات الخزان"),
    "cup": ("sport", "كأس العالم قطر المنتخب المونديال الملاعب التذاكر المشجعين"),
    "chips": ("technology", "أشباه الموصلات الرقائق المصانع تايوان المعالجات الإنتاج"),
    "wheat": ("economy", "القمح الحبوب المحصول الصوامع الاستيراد الخبز الطحين"),
}
FILLER = "وقال المسؤول إن العمل مستمر وأضاف أن النتائج ستظهر قريبا في هذا الإطار".split()


def story(key: str, n: int, rng: random.Random) -> tuple[str, str]:
    words = STORIES[key][1].split()
    title = " ".join(rng.sample(words, 4)) + f" {n}"
    body = " ".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(FILLER) for _ in range(50))
    return title, body


def _term_by_definition(word: str) -> str:
    for prefix in terms._ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix):]
    return word


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["و", "ف", "ب", "ك", "ل", "ال", "ا", "ح", "ر", "ب", "ه", "ي"]), max_size=7).map("".join))
def test_term_and_counted_term_strip_articles_as_defined(word):
    assert term(word) == _term_by_definition(word)
    counted = terms._counted_term.__wrapped__(word)
    if len(word) < 2 or word in STOP_WORDS or word.isdigit():
        assert counted is None
    else:
        assert counted == _term_by_definition(word)


CONFIG = parse_config({"site": {"title": "x"}, "filing": {"learn": False}, "topic": [
    {"key": "economy", "name": "اقتصاد"}, {"key": "sport", "name": "رياضة"},
    {"key": "technology", "name": "تكنولوجيا"}]}, root=Path("."))


def fixture_model(per_story: int = 8):
    rng = random.Random(3)
    articles = []
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for key, (topic, _) in STORIES.items():
        for n in range(per_story):
            title, body = story(key, n, rng)
            articles.append(Article(path=f"items/{key}-{n}.md", title=title, slug=f"{key}-{n}", body_html="",
                                    text=f"{title}\n{body}", topics=(topic,),
                                    date=start + timedelta(hours=len(articles))))
    return build_site_model(articles, [], CONFIG, Diagnostics())


def test_related_items_are_about_the_same_thing():
    model = fixture_model()
    related = related_items(model)
    for article in model.articles:
        picks = related[article.slug]
        assert len(picks) == MAX_RELATED
        assert article.slug not in picks
        assert len(set(picks)) == len(picks)
        story_key = article.slug.split("-")[0]
        # Same story first: «dam» and «wheat» share a topic but not a subject.
        assert all(p.split("-")[0] == story_key for p in picks), (article.slug, picks)


def test_related_items_are_deterministic():
    assert related_items(fixture_model()) == related_items(fixture_model())


def test_at_most_five_and_topped_up_by_topic():
    model = fixture_model(per_story=3)  # two others per story: the rest comes from the topic by time
    related = related_items(model)
    for article in model.articles:
        picks = related[article.slug]
        assert article.slug not in picks and len(picks) <= MAX_RELATED
        same_story = [p for p in picks if p.split("-")[0] == article.slug.split("-")[0]]
        assert len(same_story) == 2 and picks[:2] == tuple(same_story)
    assert related_items(model, limit=1)[model.articles[0].slug][:1] == related[model.articles[0].slug][:1]


def test_an_item_about_nothing_else_has_no_related_items():
    model = fixture_model(per_story=3)
    lone = Article(path="items/lone.md", title="زلزال بركان", slug="lone", body_html="",
                   text="زلزال بركان\nحمم رماد هزات ارتدادية فوهة صهارة", topics=("علوم",))
    model = build_site_model(list(model.articles) + [lone], [], CONFIG, Diagnostics())
    related = related_items(model)
    assert related["lone"] == ()
    assert all("lone" not in picks for picks in related.values())


def test_terms_drop_stop_words_and_articles():
    assert term("والحكومه") == "حكومه" and term("الى") == "الى" and term("بالدولار") == "دولار"
    counts = terms_of("الحكومة تقر الميزانية", "الحكومة تقر الميزانية\nقال الوزير إن الميزانية في الحكومة جاهزة")
    assert "في" not in counts and "قال" not in counts
    assert counts["حكومه"] == 3 and counts["ميزانيه"] == 3


def test_posting_lists_are_capped():
    vectors = top_vectors([Counter({"a": 1, "b": 1, f"c{i}": 1}) for i in range(100)] + [Counter({"zz": 1})])
    assert vectors[-1] == {}  # a term in one item only cannot relate it to anything
    postings = inverted_index(vectors, cap=10)
    assert all(len(entries) <= 10 for entries in postings.values())


def test_article_pages_list_related_items(tmp_path):
    rng = random.Random(5)
    items = {}
    for key in ("dam", "cup"):
        for n in range(4):
            title, body = story(key, n, rng)
            items[f"{key}-{n}.md"] = f"---\ntitle: {title}\ndate: 2024-01-0{n + 1}\ntopics: [{STORIES[key][0]}]\n---\n{body}\n"
    site = write_site(tmp_path, items)
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 0
    for path in (site / "public" / "articles").glob("*/index.html"):
        page = BeautifulSoup(path.read_text("utf-8"), "html.parser")
        title = page.find("h1").get_text(strip=True)
        section = page.select_one("section.related")
        assert section.find("h2").get_text(strip=True) == "أخبار ذات صلة"
        titles = [a.get_text(strip=True) for a in section.select("li a")]
        assert title not in titles and 0 < len(titles) <= MAX_RELATED
        words = set(STORIES["dam" if set(title.split()) & set(STORIES["dam"][1].split()) else "cup"][1].split())
        assert all(set(t.split()) & words for t in titles[:3])


def test_given_term_counts_are_used_in_any_form():
    model = fixture_model()
    expected = related_items(model)
    counts = {a.path: terms_of(a.title, a.text) for a in model.articles}
    assert related_items(model, term_counts=counts) == expected
    # As a build cache keeps them: plain dicts, their keys in another order; some items missing.
    shuffled = {path: dict(reversed(list(c.items()))) for path, c in reversed(list(counts.items()))}
    for path in list(shuffled)[::3]:
        del shuffled[path]
    assert related_items(model, term_counts=shuffled) == expected
    # The counts given are what is used.
    first = model.articles[0]
    assert related_items(model, term_counts={first.path: {}})[first.slug] != expected[first.slug]


def test_results_do_not_depend_on_the_block_size(monkeypatch):
    model = fixture_model()
    expected = related_items(model)
    for entries in (1, 7, 100):
        monkeypatch.setattr(related, "_BLOCK_ENTRIES", entries)
        assert related_items(model) == expected


def test_terms_are_the_content_words_of_arabic_normalize():
    samples = ["الحُكومةُ تُقرّ الميزانيّة", "أإآٱ ى ة", "١٢٣ ۴۵۶ 789", "كلـــمة", "ZWNJ\u200cمعا\u200f",
               "ﻻ ﷲ ﷺ", "Straße İstanbul ΣΑΣ", "", "\ufeffبداية والحكومة، «بالدولار»"]

    def reference(title: str, text: str) -> Counter:  # the definition, word by word
        counts = Counter(term(w) for w in content_words(text[:terms.TEXT_CHARS]))
        for word in content_words(title):
            counts[term(word)] += 1 if title and text.startswith(title) else 2
        return counts

    for article in fixture_model().articles:
        assert terms_of(article.title, article.text) == reference(article.title, article.text)
    assert terms_of(samples[0], " ".join(samples)) == reference(samples[0], " ".join(samples))
    assert terms_of(samples[-1], " ".join(samples)) == reference(samples[-1], " ".join(samples))


def test_an_empty_archive_has_no_related_items():
    model = build_site_model([], [], CONFIG, Diagnostics())
    assert related_items(model) == {}
    assert len(top_vectors([])) == 0 and dict(inverted_index(top_vectors([]))) == {}


def test_packed_term_counts_read_like_the_counts_they_pack():
    counts = terms.terms_of("الحكومة تقر الميزانية", "الحكومة تقر الميزانية\nوقالت الحكومة إن الميزانية ستنشر")
    packed = terms.TermCounts.pack(counts)
    assert list(packed) == list(counts) and list(packed.values()) == list(counts.values())
    assert len(packed) == len(counts) and dict(packed.items()) == dict(counts)
    assert pickle.loads(pickle.dumps(packed)) == packed
    assert len(terms.TermCounts.pack({})) == 0 and list(terms.TermCounts.pack({})) == []


def test_packed_term_counts_carry_their_headline_and_a_digest_of_what_ranks(tmp_path):
    from newsgen.storage import write_pickle

    counts = terms.terms_of("الحكومة تقر الميزانية", "وقالت الحكومة إن الميزانية ستنشر")
    packed = terms.TermCounts.pack(counts, "الحكومةُ تقرّ الميزانية ")
    assert packed.headline == terms.headline_key("الحكومة تقر الميزانية") == "الحكومه تقر الميزانيه"
    assert terms.TermCounts.pack(counts).headline is None
    same = terms.TermCounts.pack(dict(counts), "الحكومة تقر الميزانية")
    assert same.digest == packed.digest
    assert terms.TermCounts.pack(counts, "عنوان آخر").digest != packed.digest
    assert terms.TermCounts.pack({**counts, "ميزانيه": 9}, "الحكومة تقر الميزانية").digest != packed.digest
    write_pickle(tmp_path / "saved", packed)  # as the build cache saves them
    for copy in (pickle.loads(pickle.dumps(packed)), pickle.loads((tmp_path / "saved").read_bytes())):
        assert (copy.headline, copy.digest, dict(copy)) == (packed.headline, packed.digest, dict(packed))


def test_headlines_carried_by_the_counts_rank_as_headlines_worked_out_here():
    model = fixture_model()
    plain = {a.path: terms.TermCounts.pack(terms_of(a.title, a.text)) for a in model.articles}
    carried = {a.path: terms.TermCounts.pack(terms_of(a.title, a.text), a.title) for a in model.articles}
    assert related_items(model, term_counts=carried) == related_items(model, term_counts=plain) == related_items(model)


def test_a_vocabulary_kept_across_edits_gives_what_a_fresh_one_gives():
    from dataclasses import replace

    from newsgen.related import Vocabulary
    model = fixture_model()
    counts = {a.path: terms.TermCounts.pack(terms_of(a.title, a.text)) for a in model.articles}
    vocabulary = Vocabulary()
    assert related_items(model, term_counts=counts, vocabulary=vocabulary) == related_items(model)
    assert related_items(model, term_counts=counts) == related_items(model)  # packed counts, nothing kept
    # One item rewritten about another story: its counts change, the others' objects stay.
    edited = model.articles[3]
    other = model.articles[-1]
    text = f"{edited.title}\n{other.text} كلمة جديدة تماما"
    articles = [replace(a, text=text) if a is edited else a for a in model.articles]
    model = build_site_model(articles, [], CONFIG, Diagnostics())
    counts[edited.path] = terms.TermCounts.pack(terms_of(edited.title, text))
    assert related_items(model, term_counts=counts, vocabulary=vocabulary) == related_items(model)
    assert "كلمه" in vocabulary.ids or "جديده" in vocabulary.ids  # the new words were added


@st.composite
def rankings_and_edits(draw):
    """Documents over a few words, so that weights tie and posting lists reach their cap (made
    small here), then edits that keep every document's words: topics, headlines, the order."""
    size = draw(st.integers(2, 30))
    words = st.dictionaries(st.sampled_from("abcde"), st.integers(1, 2), min_size=1, max_size=3)
    documents = [Counter(draw(words)) for _ in range(size)]
    topics = [tuple(draw(st.lists(st.sampled_from("xyz"), max_size=2))) for _ in range(size)]
    titles = [draw(st.sampled_from(["t1", "t2", f"own{i}"])) for i in range(size)]
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.integers(0, size - 1))
        kind = draw(st.sampled_from(["topics", "title", "move", "swap"]))
        value = draw(st.integers(0, size - 1))
        edits.append((kind, row, value, tuple(draw(st.lists(st.sampled_from("xyz"), max_size=2)))))
    return documents, topics, titles, edits


@settings(max_examples=200, deadline=None)
@given(rankings_and_edits())
def test_ranking_again_after_edits_that_keep_the_words_is_ranking_afresh(case):
    documents, topics, titles, edits = case
    with mock.patch.object(related, "POSTING_CAP", 3):  # lists that reach their cap, with ties at its end
        paths = [f"items/{i}.md" for i in range(len(documents))]
        words = [f"words of {i}" for i in range(len(documents))]  # the counts never change here
        previous = related.rank(documents, paths, words, titles, topics, limit=2)
        for kind, row, value, new_topics in edits:
            rows = list(range(len(paths)))
            if kind == "topics":
                topics = [new_topics if r == row else t for r, t in enumerate(topics)]
            elif kind == "title":
                titles = [titles[value] if r == row else t for r, t in enumerate(titles)]
            elif kind == "move":  # a date edit: one item elsewhere in the order
                rows.insert(value, rows.pop(row))
            else:
                rows[row], rows[value] = rows[value], rows[row]
            documents, paths, words, titles, topics = ([part[r] for r in rows]
                                                       for part in (documents, paths, words, titles, topics))
            again = related.rank(documents, paths, words, titles, topics, limit=2, previous=previous)
            assert again.found == related.rank(documents, paths, words, titles, topics, limit=2).found
            previous = again


def test_ranking_again_ranks_only_what_an_edit_reaches(monkeypatch):
    # Two stories with no word in common: an edit in one cannot change the other's results.
    documents = [Counter({"dam": 2, "nile": 1, f"d{i % 3}": 1}) for i in range(12)] + \
        [Counter({"cup": 2, "goal": 1, f"c{i % 3}": 1}) for i in range(12)]
    paths = [f"items/{i}.md" for i in range(len(documents))]
    words = [f"words of {i}" for i in range(len(documents))]
    titles = [f"title {i}" for i in range(len(documents))]
    topics = [("economy",)] * 12 + [("sport",)] * 12
    first = related.rank(documents, paths, words, titles, topics, limit=3)
    ranked = []
    rows = related._similar_rows
    monkeypatch.setattr(related, "_similar_rows", lambda m, p, owners, *rest: ranked.append(owners.tolist()) or
                        rows(m, p, owners, *rest))
    topics[2] = ("economy", "sport")
    again = related.rank(documents, paths, words, titles, topics, limit=3, previous=first)
    assert ranked == [list(range(12))]
    assert again.found == related.rank(documents, paths, words, titles, topics, limit=3).found
    order = list(range(24))
    order.insert(20, order.pop(3))  # item 3 after item 19 (its date moved), the rest in order
    documents, paths, words, titles, topics = ([part[r] for r in order]
                                               for part in (documents, paths, words, titles, topics))
    ranked.clear()
    again = related.rank(documents, paths, words, titles, topics, limit=3, previous=again)
    assert ranked == [[r for r in range(24) if order[r] < 12]]
    assert again.found == related.rank(documents, paths, words, titles, topics, limit=3).found


@pytest.mark.parametrize("with_where", [False, True])
def test_occurrences_counted_a_block_at_a_time_are_bincount(monkeypatch, with_where):
    import numpy as np

    monkeypatch.setattr(related, "_BLOCK_ENTRIES", 7)  # many blocks, the last one short
    rng = np.random.default_rng(3)
    values = rng.integers(0, 40, 1000).astype(np.int32)
    where = rng.random(1000) < 0.6 if with_where else None
    expected = np.bincount(values[where] if with_where else values, minlength=50)
    found = related._occurrences(values, 50, where)
    assert found.tolist() == expected.tolist()


def test_term_vectors_are_the_same_from_counts_kept_packed_or_counted_here():
    # Packed counts (`TermCounts`, as the cache keeps them) are read as they are, unsigned, without
    # a copy; counts given as mappings are read one by one. The vectors must not tell them apart.
    articles = [terms_of(*story(key, n, random.Random(n))) for n in range(12) for key in STORIES]
    packed = top_vectors([terms.TermCounts.pack(counts) for counts in articles])
    plain = top_vectors([dict(counts) for counts in articles])
    assert packed.terms == plain.terms
    for name in ("indptr", "indices", "data"):
        assert getattr(packed.matrix, name).tolist() == getattr(plain.matrix, name).tolist()
