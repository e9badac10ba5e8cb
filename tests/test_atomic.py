"""Atomic writes: what is written appears whole or not at all, and never replaces a thing of another kind."""

import pytest

from bayeslogit.atomic import staged_write


def test_a_file_is_written_whole_and_replaces_a_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with staged_write(path) as temporary:
        temporary.write_text("new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), staged_write(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("failed while writing")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_directory_replaces_a_directory(tmp_path):
    path = tmp_path / "out.zarr"
    path.mkdir()
    (path / "old").write_text("old")
    with staged_write(path) as temporary:
        temporary.mkdir()
        (temporary / "new").write_text("new")
    assert [p.name for p in path.iterdir()] == ["new"]


@pytest.mark.parametrize("existing", ["directory", "file"])
def test_a_thing_of_another_kind_is_not_replaced(tmp_path, existing):
    path = tmp_path / "out"
    if existing == "directory":
        path.mkdir()
        (path / "important.txt").write_text("keep")
    else:
        path.write_text("keep")
    error = IsADirectoryError if existing == "directory" else NotADirectoryError
    with pytest.raises(error, match=f"'{path}' is a {existing}"), staged_write(path) as temporary:
        if existing == "directory":
            temporary.write_text("a file")
        else:
            temporary.mkdir()
    kept = (path / "important.txt") if existing == "directory" else path
    assert kept.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
