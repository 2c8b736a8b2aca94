import os

import pytest

from newsgen.output import MARKER, OutputError, StagedOutput, apply_changes, safe_join


@pytest.mark.parametrize("relative", ["../x", "/etc/passwd", "a/../../x", "a//b", "a\\b", "", "a/\0b"])
@pytest.mark.parametrize("follow_links", [True, False])
def test_paths_that_would_leave_the_output_are_refused(tmp_path, relative, follow_links):
    with pytest.raises(OutputError):
        safe_join(tmp_path, relative, follow_links=follow_links)


def test_a_link_inside_the_output_pointing_out_is_refused(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir(), outside.mkdir()
    os.symlink(outside, out / "articles")
    with pytest.raises(OutputError):
        apply_changes(out, {"articles/x/index.html": b"x"}, [])
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


def test_apply_changes_writes_and_prunes(tmp_path):
    (tmp_path / "old/deep").mkdir(parents=True)
    (tmp_path / "old/deep/index.html").write_bytes(b"x")
    apply_changes(tmp_path, {"new/index.html": b"y"}, ["old/deep/index.html"])
    assert (tmp_path / "new/index.html").read_bytes() == b"y"
    assert not (tmp_path / "old").exists()


def test_folders_of_dead_builds_are_cleaned_up(tmp_path):
    dead = tmp_path / ".public.new-999999999"
    dead.mkdir()
    staged = StagedOutput(tmp_path / "public")
    staged.write("index.html", b"x")
    staged.commit()
    assert not dead.exists()
