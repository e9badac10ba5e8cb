"""Atomic writes: a file or directory appears at its path whole, or not at all.

What is written goes first to a hidden staging directory beside the target (``.NAME.XXXXXXXX.partial``, on the same
file system, so that the final move is a rename), and is moved into place only once it is complete. A failed or
interrupted write leaves an existing target as it was and removes everything it staged.
"""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def staged_write(path: Path) -> contextlib.AbstractContextManager[Path]:
    """A context that yields the path to write ``path``'s new contents to, and moves them to ``path`` when the
    block ends without an exception (in every case, it removes what was staged).

    The staging directory is made at once, so that a folder that cannot be written to raises here, before
    anything is written::

        with staged_write(path) as temporary:
            temporary.write_text(text)

    Parameters
    ----------
    path : Path
        The file or directory to write; its folder must exist. A directory written in place of an existing one
        replaces it by two renames: the old one aside into the staging directory, the new one in. A file never
        replaces a directory, nor a directory a file.

    Raises
    ------
    OSError
        When the staging directory cannot be made beside ``path``, or the move fails (the existing ``path`` is
        then put back); IsADirectoryError (NotADirectoryError) when ``path`` is a directory (a file) and what was
        written is not, leaving ``path`` as it was.
    """
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    return _moved_into_place(staging, path)


@contextlib.contextmanager
def _moved_into_place(staging: Path, path: Path) -> Iterator[Path]:
    written = staging / path.name
    try:
        yield written
        if path.exists() and path.is_dir() != written.is_dir():
            kind = "directory" if path.is_dir() else "file"
            error = IsADirectoryError if path.is_dir() else NotADirectoryError
            raise error(
                f"'{path}' is a {kind}, which what was written cannot replace; remove it or choose another path"
            )
        if not path.is_dir():
            os.replace(written, path)
            return
        os.replace(path, staging / "previous")
        try:
            os.replace(written, path)
        except OSError:
            os.replace(staging / "previous", path)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
