from conftest import write_site
from newsgen.config import load_config
from newsgen.errors import Diagnostics
from newsgen.filing import KeywordRules, resolve_topic_name
from newsgen.loaders import load_articles
from newsgen.model import Pagination
from newsgen.site import build_site_model, paginate

from conftest import REPO


def model_of(site, **kwargs):
    config = load_config(site / "site.toml")
    diagnostics = Diagnostics()
    model = build_site_model(load_articles(config, diagnostics), [], config, diagnostics)
    return model, diagnostics


def item(title, date=None, topics=None, body="نص الخبر."):
    lines = ["---", f"title: {title}"]
    if date:
        lines.append(f"date: {date}")
    if topics is not None:
        lines.append(f"topics: {topics}")
    return "\n".join(lines + ["---", body, ""])


def test_the_seed_is_filed_under_politics_and_defense_without_tags():
    config = load_config(REPO / "site.toml")
    text = (REPO / "seeds/content/000_a32ecea6be25f2b2.txt").read_text("utf-8")
    assert KeywordRules.from_config(config).file(text.splitlines()[0], text)[:2] == ("defense", "politics")


def test_keywords_match_with_clitics_and_spelling_variants(tmp_path):
    site = write_site(tmp_path, {
        "a.md": item("خبر", body="قرر البنكِ المركزيّ رفع الفائدة وبالتضخم المرتفع تتأثر الأسواق."),
        "b.md": item("خبر آخر", body="فاز المنتخب في المباراة النهائية للدوري."),
        "c.md": item("خبر ثالث", body="افتتحت جدتي مخبزا صغيرا."),
    })
    model, _ = model_of(site)
    keys = {a.path: a.topic_keys for a in model.articles}
    assert keys == {"items/a.md": ("economy",), "items/b.md": ("sport",), "items/c.md": ("general",)}
    assert all(a.topics_inferred for a in model.articles)


def test_declared_topics_match_by_key_or_normalized_name():
    config = load_config(REPO / "site.toml")
    assert resolve_topic_name("politics", config.topics).key == "politics"
    assert resolve_topic_name("سياسه", config.topics).key == "politics"
    assert resolve_topic_name("الشرق الاوسط", config.topics).key == "middle-east"
    assert resolve_topic_name("بيئة", config.topics) is None


def test_own_topics_win_and_undeclared_topics_get_a_page_and_one_warning(tmp_path):
    site = write_site(tmp_path, {
        "a.md": item("مباراة الدوري", topics="[اقتصاد, بيئة]"),
        "b.md": item("خبر", topics="[بيئة]"),
    })
    model, diagnostics = model_of(site)
    assert {a.topic_keys for a in model.articles} == {("economy", "بيئة"), ("بيئة",)}
    assert [t.key for t in model.topics] == ["economy", "بيئة"]
    assert model.topic("بيئة").declared is False and model.topic("بيئة").count == 2
    assert len([w for w in diagnostics.warnings if "بيئة" in w.message]) == 1


def test_slug_collisions_are_resolved_by_date_and_warned(tmp_path):
    site = write_site(tmp_path, {
        "z.md": item("عنوان مكرر", date="2024-01-01"),
        "a.md": item("عنوان مكرر", date="2024-02-01"),
        "m.md": item("عنوان مكرر"),
    })
    model, diagnostics = model_of(site)
    slugs = {a.path: a.slug for a in model.articles}
    assert slugs == {"items/z.md": "عنوان-مكرر", "items/a.md": "عنوان-مكرر-2", "items/m.md": "عنوان-مكرر-3"}
    assert len(diagnostics.warnings) == 2
    assert str(diagnostics.warnings[0]).startswith("items/a.md: warning: slug «عنوان-مكرر» is also used by items/z.md")


def test_a_generated_slug_never_takes_another_items_own_slug(tmp_path):
    site = write_site(tmp_path, {
        "a.md": item("عنوان", date="2024-01-01"),
        "b.md": item("عنوان", date="2024-02-01"),
        "c.md": "---\ntitle: آخر\nslug: عنوان-2\ndate: 2024-03-01\n---\nنص\n",
    })
    model, _ = model_of(site)
    assert {a.path: a.slug for a in model.articles} == {
        "items/a.md": "عنوان", "items/b.md": "عنوان-3", "items/c.md": "عنوان-2"}


def test_order_archives_and_undated(tmp_path):
    site = write_site(tmp_path, {
        "a.md": item("أ", date="2023-12-31T23:30:00+00:00"),  # already 2024 in Riyadh
        "b.md": item("ب", date="2024-05-01"),
        "c.md": item("ج"),
        "d.md": item("د", date="2022-07-07"),
    })
    model, _ = model_of(site)
    assert [a.path for a in model.articles] == ["items/b.md", "items/a.md", "items/d.md", "items/c.md"]
    assert [(p.year, p.month, p.count) for p in model.months] == [(2024, 5, 1), (2024, 1, 1), (2022, 7, 1)]
    assert [(p.year, p.count) for p in model.years] == [(2024, 2), (2022, 1)]
    assert len(model.undated) == 1


def test_pagination_numbers_pages_from_the_oldest():
    # Slugs newest first: "0" is the newest of five items.
    pages = paginate("topic", "topics/x/", "x", [str(i) for i in range(5)], 2)
    assert [p.url for p in pages] == ["topics/x/", "topics/x/page/1/"]
    assert [p.article_slugs for p in pages] == [("0", "1", "2"), ("3", "4")]  # the newest page takes the rest
    newest, oldest = (p.pagination for p in pages)
    assert newest.newest and not oldest.newest and (newest.current, oldest.current) == (2, 1)
    assert newest.prev_url is None and newest.next_url == "topics/x/page/1/"
    assert oldest.prev_url == "topics/x/" and oldest.next_url is None
    assert [(e.number, e.newest, e.current) for e in oldest.pages] == [(None, True, False), (1, False, True)]
    assert [(e.number, e.gap) for e in Pagination.of(5, 10, "t/").pages] == [(None, False), (None, True), (6, False), (5, False), (4, False), (None, True), (1, False)]
    assert [(e.number, e.newest) for e in Pagination.of(2, 3, "t/").pages] == [(None, True), (2, False), (1, False)]
    assert Pagination.of(2, 3, "t/").prev_url == "t/" and Pagination.of(1, 3, "t/").prev_url == "t/page/2/"
    assert [p.article_slugs for p in paginate("topic", "t/", "t", ["a"], 20)] == [("a",)]
    assert len(paginate("topic", "t/", "t", [], 20)) == 1


def test_page_links_are_the_newest_the_oldest_and_the_neighbours_with_gaps_between():
    for total in range(1, 10):
        for current in range(1, total + 1):
            shown = sorted({1, total, *range(max(1, current - 1), min(total, current + 1) + 1)}, reverse=True)
            expected = []
            for before, number in zip([None, *shown], shown):
                if before is not None and before - number > 1:
                    expected.append("gap")
                expected.append(("newest" if number == total else number, number == current))
            links = Pagination.of(current, total, "t/").pages
            assert [("gap" if e.gap else ("newest" if e.newest else e.number, e.current)) for e in links] \
                == expected, (current, total)
            assert [e.url for e in links if e.newest] == ["t/"]


def test_numbered_pages_stay_the_same_as_newer_items_arrive():
    """What makes an archive cheap to rebuild and to publish: a new item changes the newest
    page only, and once in `per_page` items the page it becomes and the two below it (whose
    links reach it), never the older pages."""
    per_page = 3
    before = {p.url: p for p in paginate("topic", "t/", "t", [f"item{i}" for i in range(20, 0, -1)], per_page)}
    for added in range(1, 8):
        slugs = [f"item{i}" for i in range(20 + added, 0, -1)]
        after = {p.url: p for p in paginate("topic", "t/", "t", slugs, per_page)}
        changed = {url for url, page in after.items() if before.get(url) != page}
        grew = len(after) > len(before)
        assert changed == ({"t/", *(f"t/page/{n}/" for n in range(len(after) - 3, len(after)))} if grew else {"t/"})
        assert all(sum(1 for p in after.values() if slug in p.article_slugs) == 1 for slug in slugs)
        assert all(len(p.article_slugs) == per_page for url, p in after.items() if url != "t/")
        assert per_page <= len(after["t/"].article_slugs) < 2 * per_page
        before = after


def test_dates_are_shown_on_the_site_calendar_day(tmp_path):
    from newsgen.build import build
    site = write_site(tmp_path, {"a.md": item("خبر", date="2023-12-31T23:30:00+00:00")})
    build(load_config(site / "site.toml"))
    page = (site / "public/articles/خبر/index.html").read_text("utf-8")
    assert "1 يناير 2024" in page and (site / "public/archive/2024/01/index.html").exists()
