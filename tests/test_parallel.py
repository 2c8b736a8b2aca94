"""Rendering across processes gives what rendering in one gives."""

import os
import time

import pytest

from conftest import write_site
from newsgen.build import build
from newsgen.config import load_config
from newsgen.errors import TemplateError
from newsgen.parallel import map_forked


PARENT = os.getpid()


def _square(n):
    time.sleep(0.005)  # long enough that every process gets items
    return n * n, os.getpid()


def test_results_keep_the_order_of_the_items_and_come_from_several_processes():
    results = map_forked(_square, list(range(101)), workers=3)
    assert [value for value, _ in results] == [n * n for n in range(101)]
    assert len({pid for _, pid in results}) == 3
    assert os.getpid() in {pid for _, pid in results}  # this process takes a share too


def test_children_take_over_while_this_process_does_other_work():
    ran = []
    results = map_forked(_square, list(range(60)), workers=2, meanwhile=lambda: ran.append(time.sleep(0.5)))
    assert ran == [None] and [value for value, _ in results] == [n * n for n in range(60)]
    by_parent = sum(pid == os.getpid() for _, pid in results)
    assert by_parent < 30  # the child took more than an even share


def test_progress_is_reported_while_the_work_is_shared():
    seen = []
    map_forked(_square, list(range(200)), workers=2, progress=seen.append)
    assert seen and seen == sorted(seen) and max(seen) <= 200


def _fails_in_a_child(n):
    if os.getpid() != PARENT and n >= 0:
        raise TemplateError("the template broke", "templates/article.html", 12)
    time.sleep(0.005)
    return n


def test_a_users_error_in_a_child_is_raised_as_itself_with_its_place():
    with pytest.raises(TemplateError) as caught:
        map_forked(_fails_in_a_child, list(range(40)), workers=2, meanwhile=lambda: time.sleep(0.1))
    assert str(caught.value) == "templates/article.html:12: the template broke"


def _bug_in_a_child(n):
    if os.getpid() != PARENT:
        raise KeyError("oops")
    time.sleep(0.005)
    return n


def test_a_bug_in_a_child_comes_back_with_its_traceback():
    with pytest.raises(RuntimeError, match=r"(?s)KeyError: 'oops'.*"):
        map_forked(_bug_in_a_child, list(range(40)), workers=2, meanwhile=lambda: time.sleep(0.1))


def _items(count):
    return {f"item-{n:03d}.md": f"---\ntitle: خبر رقم {n}\ndate: 2024-0{1 + n % 9}-1{n % 10}T08:00:00+03:00\n"
                                f"topics: [{'اقتصاد' if n % 2 else 'سياسة'}]\n---\nنص الخبر رقم {n} عن "
                                f"{'الأسواق والأسعار' if n % 3 else 'الحكومة والبرلمان'}.\n"
            for n in range(count)}


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_site_rendered_by_two_processes_is_byte_for_byte_the_one_rendered_by_one(tmp_path):
    site = write_site(tmp_path, _items(60))
    config = load_config(site / "site.toml")
    build(config, output=tmp_path / "one", use_cache=False, workers=1)
    build(config, output=tmp_path / "two", use_cache=False, workers=2)
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert len(one) > 60 and one == two


def test_a_template_error_in_a_worker_fails_the_build_and_keeps_the_previous_output(tmp_path):
    site = write_site(tmp_path, _items(30))
    config = load_config(site / "site.toml")
    build(config, use_cache=False, workers=2)
    before = _tree(config.output_dir)
    (site / "templates").mkdir(exist_ok=True)
    # Only one item's page fails, whichever process renders it.
    (site / "templates" / "article.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ article.nope if article.title.endswith("10") '
        'else article.title }}{% endblock %}\n', encoding="utf-8")
    with pytest.raises(TemplateError, match="article.html"):
        build(config, use_cache=False, workers=2)
    assert _tree(config.output_dir) == before


def test_items_parsed_by_workers_park_their_bodies_in_a_spool_that_forked_processes_read(tmp_path, monkeypatch):
    import newsgen.loaders as loaders
    from newsgen.errors import Diagnostics
    from newsgen.parallel import cores
    from newsgen.storage import BodySpool

    if cores() < 2:
        pytest.skip("items are parsed by worker processes only on two cores or more")
    site = write_site(tmp_path, _items(30))
    config = load_config(site / "site.toml")
    monkeypatch.setattr(loaders, "PARALLEL_FROM", 10)
    parked = loaders.load_articles(config, Diagnostics())
    monkeypatch.setattr(loaders, "PARALLEL_FROM", 10 ** 9)
    plain = loaders.load_articles(config, Diagnostics())
    assert len(parked) == 30 and parked == plain
    for article in parked:
        for name in ("body_html", "text"):
            assert isinstance(article.__dict__[name].bodies, BodySpool)  # read back, not kept
    bodies = map_forked(lambda article: (article.body_html, article.text), parked, workers=2)
    assert bodies == [(a.body_html, a.text) for a in plain] and any("الخبر" in text for _, text in bodies)


def test_bodies_stay_in_memory_when_the_temporary_folder_cannot_take_them(tmp_path, monkeypatch):
    import newsgen.loaders as loaders
    import newsgen.storage as storage
    from newsgen.errors import Diagnostics
    from newsgen.parallel import cores

    if cores() < 2:
        pytest.skip("items are parsed by worker processes only on two cores or more")
    site = write_site(tmp_path, _items(30))
    config = load_config(site / "site.toml")
    plain = loaders.load_articles(config, Diagnostics())
    monkeypatch.setattr(loaders, "PARALLEL_FROM", 10)

    class FullAfterTen:  # a file on a disk that fills up after ten bodies
        def __init__(self, *args, **kwargs):
            self.real, self.writes = real(*args, **kwargs), 0

        def write(self, data):
            self.writes += 1
            if self.writes > 10:
                raise OSError(28, "No space left on device")
            return self.real.write(data)

        def fileno(self):
            return self.real.fileno()

    real = storage.tempfile.TemporaryFile
    def not_writable(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    for make, in_memory in ((FullAfterTen, 20), (not_writable, 30)):
        monkeypatch.setattr(storage.tempfile, "TemporaryFile", make)
        articles = loaders.load_articles(config, Diagnostics())
        assert sum(isinstance(a.__dict__["text"], bytes) for a in articles) == in_memory
        assert articles == plain
        assert map_forked(lambda article: article.text, articles, workers=2) == [a.text for a in plain]


def test_a_full_build_renders_the_pages_without_related_items_while_it_ranks_them(tmp_path, monkeypatch):
    import newsgen.build as build_module
    from newsgen.render import SiteRenderer

    site = write_site(tmp_path, _items(60))
    config = load_config(site / "site.toml")
    log = tmp_path / "rendered.log"
    ranking: list[float] = []
    rank, render_list, render_article = build_module.related_lists, SiteRenderer.render_list, SiteRenderer.render_article

    def slow_rank(*args, **kwargs):
        ranking.append(time.monotonic())
        time.sleep(0.5)
        found = rank(*args, **kwargs)
        ranking.append(time.monotonic())
        return found

    def logged(kind, render):
        def rendering(self, *args):
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"{kind} {os.getpid()} {time.monotonic()}\n")
            return render(self, *args)
        return rendering

    monkeypatch.setattr(build_module, "related_lists", slow_rank)
    monkeypatch.setattr(SiteRenderer, "render_list", logged("list", render_list))
    monkeypatch.setattr(SiteRenderer, "render_article", logged("article", render_article))
    build(config, use_cache=False, workers=2)
    started, ranked = ranking
    rendered = [(kind, int(pid), float(at)) for kind, pid, at in (line.split() for line in log.read_text().splitlines())]
    assert any(kind == "list" and pid != os.getpid() and started < at < ranked for kind, pid, at in rendered)
    assert min(at for kind, _, at in rendered if kind == "article") > ranked
    assert sum(kind == "article" for kind, _, _ in rendered) == 60  # each page once


def test_the_pages_with_and_without_related_items_are_all_the_pages_once(tmp_path):
    from newsgen.build import load_site
    from newsgen.errors import Diagnostics
    from newsgen.render import SiteRenderer

    site = write_site(tmp_path, _items(12))
    config = load_config(site / "site.toml")
    renderer = SiteRenderer(load_site(config, Diagnostics()), config)
    every = [job.url for job in renderer.jobs()]
    articles = [job.url for job in renderer.jobs(others=False)]
    others = [job.url for job in renderer.jobs(articles=False)]
    assert len(articles) == 12 and len(set(every)) == len(every)
    assert sorted(articles + others) == sorted(every)
    assert {job.kind for job in renderer.jobs(others=False)} == {"article"}
    assert "article" not in {job.kind for job in renderer.jobs(articles=False)}


def test_free_memory_is_given_back_before_children_are_forked_and_not_for_work_done_here(monkeypatch):
    from newsgen import parallel

    trims = []
    monkeypatch.setattr(parallel, "_malloc_trim", lambda: trims.append)
    map_forked(_square, list(range(5)), workers=1)
    assert trims == []  # nothing forked
    map_forked(_square, list(range(20)), workers=2)
    assert trims == [0]
