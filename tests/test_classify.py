"""The learned filing: a topic model trained on the tagged items, cached, and only used when confident."""

from __future__ import annotations

import gzip
import random
import textwrap
from pathlib import Path

import pytest

from conftest import write_site
from newsgen.classify import (CACHE_FILE, CACHE_FOLDER, Example, LearnSettings, cross_validate, fold_of,
                              format_evaluation, load_or_train, train, training_key)
from newsgen.cli import main

SPORT = ("مباراة الفريق اللاعب المدرب الملعب الهدف الدوري البطولة المنتخب الكرة الجمهور الحارس "
         "الهجوم الدفاع التعادل الفوز الخسارة الشوط ركلة جزاء النادي الموسم الكأس").split()
ECONOMY = ("البنك المركزي التضخم الأسعار الفائدة البورصة الأسهم الاستثمار الميزانية الصادرات "
           "الواردات العملة الدولار الشركات التجارة الضرائب النمو الديون السندات الأرباح المصارف").split()
TECHNOLOGY = ("الهاتف التطبيق الإنترنت الحاسوب البرمجيات الشبكة الذكاء الاصطناعي البيانات الشريحة "
              "المعالج الشاشة المستخدمين التحديث الأمن الرقمي المنصة الخوادم السحابة الروبوت").split()
COMMON = "قال أعلن المسؤول اليوم في مؤتمر صحفي إن الوضع الحالي يتطلب متابعة دقيقة خلال الأسابيع المقبلة".split()
COOKING = "وصفة الطبخ الدقيق السكر الزبدة الفرن الكعكة الملعقة الخبز العجين البيض الحليب القرفة".split()


def make_text(pool: list[str], rng: random.Random, words: int = 60) -> str:
    chosen = [rng.choice(pool) if rng.random() < 0.6 else rng.choice(COMMON) for _ in range(words)]
    return " ".join(chosen) + "."


def make_examples(per_topic: int = 25, seed: int = 7) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for key, pool in (("sport", SPORT), ("economy", ECONOMY), ("technology", TECHNOLOGY)):
        for n in range(per_topic):
            title = " ".join(rng.choice(pool) for _ in range(5))
            examples.append(Example(title, f"{title}\n{make_text(pool, rng)}", (key,)))
    return examples


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return make_examples()


@pytest.fixture(scope="module")
def model(examples):
    return train(examples, LearnSettings(min_items=20))


def test_it_files_what_it_was_taught(model):
    rng = random.Random(99)
    assert model.labels == ("economy", "sport", "technology")
    assert model.file("", make_text(SPORT, rng), 0.6) == ("sport",)
    assert model.file("", make_text(ECONOMY, rng), 0.6) == ("economy",)
    assert model.file("", make_text(TECHNOLOGY, rng), 0.6) == ("technology",)


def test_training_is_deterministic_whatever_the_order(examples, model):
    shuffled = list(examples)
    random.Random(1).shuffle(shuffled)
    again = train(shuffled, LearnSettings(min_items=20))
    assert again.weights == model.weights
    assert again.temperature == model.temperature and again.log_priors == model.log_priors
    text = make_text(SPORT + ECONOMY, random.Random(5))
    assert again.probabilities("", text) == model.probabilities("", text)


def test_the_threshold_is_respected(model):
    text = make_text(SPORT + ECONOMY, random.Random(3))
    probabilities = model.probabilities("", text)
    best = max(probabilities, key=probabilities.get)
    p = probabilities[best]
    assert 0 < p < 1
    assert model.file("", text, p) == (best,)
    assert model.file("", text, min(1.0, p + 1e-9)) == ()
    assert model.file("", text, 1.0) == ()


def test_it_abstains_on_unrelated_text(model):
    rng = random.Random(11)
    cooking = " ".join(rng.choice(COOKING + COMMON) for _ in range(80))
    assert model.file("وصفة الكعكة", cooking, 0.6) == ()
    assert model.file("Lorem ipsum", "Lorem ipsum dolor sit amet, consectetur adipiscing elit.", 0.6) == ()
    assert model.file("", "", 0.6) == ()
    assert sum(model.probabilities("", "Lorem ipsum").values()) == 0


def test_topics_with_too_few_items_are_not_learned(examples):
    few = [e for e in examples if e.topics != ("technology",)] + \
          [e for e in examples if e.topics == ("technology",)][:5]
    model = train(few, LearnSettings(min_items=20))
    assert model.labels == ("economy", "sport")
    assert train([e for e in examples if e.topics == ("sport",)], LearnSettings(min_items=20)) is None


def test_the_model_is_cached_by_its_training_data(tmp_path, examples, model):
    cache = tmp_path / CACHE_FOLDER
    settings = LearnSettings(min_items=20)
    first = load_or_train(examples, settings, cache)
    path = cache / CACHE_FILE
    assert path.is_file()
    stamp = path.stat().st_mtime_ns
    second = load_or_train(list(reversed(examples)), settings, cache)  # same data, other order: from the cache
    assert path.stat().st_mtime_ns == stamp
    text = make_text(TECHNOLOGY, random.Random(8))
    assert first.probabilities("", text) == second.probabilities("", text) == model.probabilities("", text)
    # Other data or other settings: another key, trained again.
    assert training_key(examples[:-1], settings) != training_key(examples, settings)
    assert training_key(examples, LearnSettings(min_items=21)) != training_key(examples, settings)
    third = load_or_train(examples[:-1], settings, cache)
    assert third.weights != model.weights


@pytest.mark.parametrize("junk", [b"", b"not gzip at all", gzip.compress(b"{not json"),
                                  gzip.compress(b'{"version": 1, "key": "other"}'),
                                  gzip.compress(b"[1, 2, 3]")])
def test_a_corrupt_cache_is_discarded(tmp_path, examples, model, junk):
    cache = tmp_path / CACHE_FOLDER
    cache.mkdir()
    (cache / CACHE_FILE).write_bytes(junk)
    loaded = load_or_train(examples, LearnSettings(min_items=20), cache)
    assert loaded.weights == model.weights
    assert (cache / CACHE_FILE).read_bytes() != junk  # replaced by a good one
    assert load_or_train(examples, LearnSettings(min_items=20), cache).weights == model.weights


def test_folds_are_stratified_and_fixed(examples):
    folds = fold_of(examples, 5)
    assert folds == fold_of(examples, 5)
    for key in ("sport", "economy", "technology"):
        counts = [sum(1 for e, f in zip(examples, folds) if e.topics == (key,) and f == k) for k in range(5)]
        assert counts == [5] * 5


def test_cross_validation_reports_every_topic(examples):
    results = cross_validate(examples, LearnSettings(min_items=15), folds=5, threshold=0.6,
                             keyword_filing=lambda title, text: (), fallback="general")
    assert [r.name for r in results] == ["learned model alone", "keyword rules alone",
                                         "learned filing (model, then keyword rules)"]
    alone = results[0]
    assert [t.topic for t in alone.topics] == ["economy", "sport", "technology"]
    assert alone.macro_f1 > 0.9
    assert results[1].macro_f1 == 0
    text = format_evaluation(alone)
    assert "precision" in text and "recall" in text and "macro" in text and "confusion" in text


# -- in a site --------------------------------------------------------------------------------

CONFIG = """\
    [site]
    title = "موقع الاختبار"
    timezone = "Asia/Riyadh"

    [content]
    items = ["items"]

    [filing]
    min_tagged = 20
    confidence = 0.6

    [[topic]]
    key = "economy"
    name = "اقتصاد"
    keywords = ["وصفة"]

    [[topic]]
    key = "sport"
    name = "رياضة"
    keywords = []

    [[topic]]
    key = "technology"
    name = "تكنولوجيا"
    keywords = []
    """


def item(title: str, text: str, topics: tuple[str, ...] = (), day: int = 1) -> str:
    front = f"---\ntitle: {title}\ndate: 2024-01-{day:02d}\n"
    if topics:
        front += f"topics: [{', '.join(topics)}]\n"
    return front + "---\n" + text + "\n"


def learned_site(tmp_path: Path, *, learn: bool = True) -> Path:
    items = {f"t{i:03d}.md": item(e.title, e.text.split("\n", 1)[1], e.topics, 1 + i % 28)
             for i, e in enumerate(make_examples())}
    rng = random.Random(42)
    items["untagged-sport.md"] = item("خبر بلا قسم", make_text(SPORT, rng))
    items["own-topic.md"] = item("خبر له قسمه", make_text(SPORT, rng), ("economy",))
    items["cooking.md"] = item("وصفة اليوم", " ".join(rng.choice(COOKING) for _ in range(60)))
    config = CONFIG if learn else CONFIG.replace("min_tagged = 20", "min_tagged = 20\n    learn = false")
    return write_site(tmp_path, items, config=textwrap.dedent(config))


def test_a_build_files_untagged_items_as_the_tagged_ones_teach(tmp_path):
    from newsgen.build import load_site
    from newsgen.config import load_config
    from newsgen.errors import Diagnostics

    site = learned_site(tmp_path)
    model = load_site(load_config(site / "site.toml"), Diagnostics())
    by_path = {a.path: a for a in model.articles}
    assert by_path["items/untagged-sport.md"].topic_keys == ("sport",)
    assert by_path["items/untagged-sport.md"].topics_inferred
    # An item's own topics are never overridden, whatever its text says.
    assert by_path["items/own-topic.md"].topic_keys == ("economy",)
    assert not by_path["items/own-topic.md"].topics_inferred
    # Unrelated text: the model abstains and the keyword rules decide («وصفة» is an economy keyword here).
    assert by_path["items/cooking.md"].topic_keys == ("economy",)
    assert (site / CACHE_FOLDER / CACHE_FILE).is_file()
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 0


def test_learning_can_be_switched_off(tmp_path):
    from newsgen.build import load_site
    from newsgen.config import load_config
    from newsgen.errors import Diagnostics

    site = learned_site(tmp_path, learn=False)
    model = load_site(load_config(site / "site.toml"), Diagnostics())
    by_path = {a.path: a for a in model.articles}
    assert by_path["items/untagged-sport.md"].topic_keys == ("general",)
    assert not (site / CACHE_FOLDER).exists()


def test_the_evaluate_command_prints_the_tables(tmp_path, capsys):
    site = learned_site(tmp_path)
    assert main(["topics", "--config", str(site / "site.toml"), "--evaluate", "--folds", "5"]) == 0
    out = capsys.readouterr().out
    assert "76 tagged items, 2 without topics" in out
    assert "5-fold held-out evaluation at confidence 0.6" in out
    for heading in ("learned model alone", "keyword rules alone", "learned filing (model, then keyword rules)"):
        assert heading in out
    assert "precision  recall     F1" in out
    assert "confusion (rows: the item's first topic" in out
    for key in ("economy", "sport", "technology"):
        assert key in out
    assert out.count("macro") == 3
    # Same data, same output.
    assert main(["topics", "--config", str(site / "site.toml"), "--evaluate", "--folds", "5"]) == 0
    assert capsys.readouterr().out == out


def test_the_topics_command_without_evaluate(tmp_path, capsys):
    site = learned_site(tmp_path)
    assert main(["topics", "--config", str(site / "site.toml")]) == 0
    out = capsys.readouterr().out
    assert "learned" in out and "precision" not in out


@pytest.mark.parametrize("line, message", [("confidence = 1.5", "`filing.confidence` must be"),
                                           ("confidence = 0", "`filing.confidence` must be"),
                                           ("min_tagged = 0", "`filing.min_tagged` must be"),
                                           ('learn = "yes"', "`filing.learn` must be true or false")])
def test_bad_filing_settings_are_reported(tmp_path, capsys, line, message):
    site = write_site(tmp_path, {}, config=f'[site]\ntitle = "x"\n[content]\nitems = ["items"]\n[filing]\n{line}\n')
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 1
    assert message in capsys.readouterr().err
