import os

import pytest

from newsgen.output import (MARKER, InsideFolder, OutputError, StagedOutput, apply_changes, content_token, output_token,
                            safe_join, updated_token)


@pytest.mark.parametrize("relative", ["../x", "/etc/passwd", "a/../../x", "a//b", "a\\b", "", "a/\0b"])
@pytest.mark.parametrize("follow_links", [True, False])
def test_paths_that_would_leave_the_output_are_refused(tmp_path, relative, follow_links):
    with pytest.raises(OutputError):
        InsideFolder(tmp_path).join(relative) if follow_links else safe_join(tmp_path, relative)


def test_a_link_inside_the_output_pointing_out_is_refused(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir(), outside.mkdir()
    os.symlink(outside, out / "articles")
    with pytest.raises(OutputError):
        apply_changes(out, {"articles/x/index.html": b"x"}, [], "token")
    assert list(outside.iterdir()) == []


def test_staged_output_swaps_in_and_marks_the_folder(tmp_path):
    target = tmp_path / "public"
    staged = StagedOutput(target)
    staged.write("a/index.html", b"one")
    staged.commit()
    assert (target / "a/index.html").read_bytes() == b"one" and (target / MARKER).exists()
    again = StagedOutput(target)
    again.write("b/index.html", b"two")
    again.discard()
    assert (target / "a/index.html").read_bytes() == b"one" and not (target / "b").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_a_carried_folder_moves_into_the_new_output_and_back_if_the_swap_fails(tmp_path, monkeypatch):
    target = tmp_path / "public"
    first = StagedOutput(target)
    first.write("index.html", b"one")
    first.write("pagefind/manifest.json", b"shards")
    first.commit()
    failing = StagedOutput(target)
    failing.write("index.html", b"two")
    failing.carry("pagefind")
    rename = os.rename

    def refuse_the_swap(source, destination):
        if str(source) == str(failing.stage):
            raise OSError(28, "No space left on device")
        rename(source, destination)

    monkeypatch.setattr(os, "rename", refuse_the_swap)
    with pytest.raises(OSError):
        failing.commit()
    monkeypatch.undo()
    # The previous output is whole, its carried folder back in it.
    assert (target / "index.html").read_bytes() == b"one"
    assert (target / "pagefind/manifest.json").read_bytes() == b"shards"
    failing.discard()
    second = StagedOutput(target)
    second.write("index.html", b"two")
    second.carry("pagefind")
    second.carry("absent")
    second.commit()
    assert (target / "index.html").read_bytes() == b"two"
    assert (target / "pagefind/manifest.json").read_bytes() == b"shards"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]


def test_apply_changes_writes_and_prunes(tmp_path):
    (tmp_path / "old/deep").mkdir(parents=True)
    (tmp_path / "old/deep/index.html").write_bytes(b"x")
    assert apply_changes(tmp_path, {"new/index.html": b"y"}, ["old/deep/index.html"], "after")
    assert (tmp_path / "new/index.html").read_bytes() == b"y"
    assert not (tmp_path / "old").exists()
    assert output_token(tmp_path) == "after"  # the marker names what the folder holds now
    assert not apply_changes(tmp_path, {}, [], "other") and output_token(tmp_path) == "after"


def test_the_marker_holds_a_digest_of_the_files_that_two_builds_of_a_site_share(tmp_path):
    tokens = []
    for name in ("one", "two"):
        staged = StagedOutput(tmp_path / name)
        staged.write("index.html", b"x")
        staged.token = content_token({"index.html": "d1"})
        staged.commit()
        tokens.append(output_token(tmp_path / name))
    assert tokens[0] == tokens[1] == content_token({"index.html": "d1"}) != content_token({"index.html": "d2"})
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / MARKER).write_text("This folder is written by newsgen build.\n", "utf-8")
    assert output_token(tmp_path / "old") is None and output_token(tmp_path / "none") is None


def test_folders_of_dead_builds_are_cleaned_up(tmp_path):
    dead = tmp_path / ".public.new-999999999"
    dead.mkdir()
    staged = StagedOutput(tmp_path / "public")
    staged.write("index.html", b"x")
    staged.commit()
    assert not dead.exists()


def test_the_marker_digest_of_a_few_changes_is_worked_out_from_them_alone():
    before = {f"articles/{n}/index.html": f"d{n}" for n in range(50)}
    after = dict(before, **{"articles/3/index.html": "new", "feed.xml": "f"})
    del after["articles/7/index.html"]
    changed = ["articles/3/index.html", "feed.xml", "articles/7/index.html"]
    assert updated_token(content_token(before), before, after, changed) == content_token(after)
    assert content_token(after) != content_token(before) and content_token({}) == "0" * 32


@pytest.mark.parametrize("link, target, refused", [
    ("articles", "outside", True),  # a folder on the way
    ("articles/x", "outside", True),  # deeper
    ("articles/x/index.html", "outside/page.html", True),  # the file itself
    ("articles", "out/real", False),  # a link that stays inside
])
def test_links_in_the_output_are_followed_for_every_write_and_removal(tmp_path, link, target, refused):
    out, outside = tmp_path / "out", tmp_path / "outside"
    (out / "real").mkdir(parents=True), outside.mkdir()
    (out / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(tmp_path / target, out / link)
    for writes, removals in (({"articles/x/index.html": b"x", "articles/y/index.html": b"y"}, []),
                             ({}, ["articles/x/index.html"])):
        if refused:
            with pytest.raises(OutputError):
                apply_changes(out, writes, removals, "token")
        else:
            apply_changes(out, writes, removals, "token")
    assert list(outside.iterdir()) == []
    if not refused:
        assert sorted(p.name for p in (out / "real").iterdir()) == ["y"]
