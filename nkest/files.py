"""Writing outputs without losing anything: refuse foreign paths, replace whole or not at all.

nkest never deletes or replaces what it did not write. A path it is asked to
write is either absent, an empty directory, or an output nkest wrote before;
anything else is refused. Replacing an earlier nkest output takes an
explicit ``overwrite=True`` (``--force`` on the command line).

Every output is first written beside its destination, under a hidden
temporary name, and moved into place only when it is complete: a failure
midway (a full disk, an error, Ctrl-C) leaves the previous output whole and
no half-written one.

A directory nkest writes (a report, a zarr store) carries a manifest,
``.nkest-output.json``, listing every file in it. A directory is an nkest
output only if its manifest lists every file it holds: a file someone added
since makes it foreign again, so replacing it cannot delete that file.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "MANIFEST",
    "OutputExistsError",
    "check_replaceable",
    "replace_output",
    "written_by_nkest",
]

MANIFEST = ".nkest-output.json"
"""The file listing what nkest wrote in a directory it owns."""


class OutputExistsError(FileExistsError):
    """The path to write holds something nkest must not replace (as things stand)."""


def _listing(directory: Path) -> list[str]:
    return sorted(
        str(path.relative_to(directory)) for path in directory.rglob("*") if not path.is_dir()
    )


def written_by_nkest(path: Path, is_nkest_file: Callable[[Path], bool] | None = None) -> bool:
    """Return whether ``path`` is an output nkest wrote and still owns whole.

    A directory: its manifest lists exactly the files it holds, or, for a
    format that keeps no foreign file (a zarr store), ``is_nkest_file`` says
    so. A file: only if ``is_nkest_file`` says so (a saved fit's attributes).
    """
    if path.is_dir() and not (path / MANIFEST).exists() and is_nkest_file is not None:
        return is_nkest_file(path)
    if path.is_dir():
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            listed = set(manifest["files"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return set(_listing(path)) <= listed | {MANIFEST}
    return bool(is_nkest_file and path.is_file() and is_nkest_file(path))


def check_replaceable(
    path: Path,
    *,
    overwrite: bool,
    what: str,
    is_nkest_file: Callable[[Path], bool] | None = None,
) -> None:
    """Refuse ``path`` unless it is absent, an empty directory, or an nkest output to replace.

    Raises
    ------
    OutputExistsError
        If ``path`` holds something nkest did not write (always refused), or
        an earlier nkest output and ``overwrite`` is false.
    """
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        return
    if path.is_symlink() or not written_by_nkest(path, is_nkest_file):
        foreign = ""
        if path.is_dir() and (path / MANIFEST).exists():
            try:
                listed = set(json.loads((path / MANIFEST).read_text("utf-8"))["files"])
            except (OSError, ValueError, KeyError, TypeError):
                listed = set()
            extra = [name for name in _listing(path) if name not in listed | {MANIFEST}]
            foreign = f" (it holds files nkest did not write: {', '.join(extra[:5])})"
        raise OutputExistsError(
            f"{path} already exists and is not an output nkest wrote{foreign}; nkest never "
            f"deletes or replaces what it did not write: choose a new path for the {what}"
        )
    if not overwrite:
        raise OutputExistsError(
            f"{path} already holds an earlier nkest {what}; pass overwrite=True "
            "(on the command line, --force) to replace it"
        )


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:12]}"


@contextmanager
def replace_output(
    path: str | os.PathLike[str],
    *,
    overwrite: bool,
    what: str,
    directory: bool,
    is_nkest_file: Callable[[Path], bool] | None = None,
) -> Iterator[Path]:
    """Yield a temporary path to write; on success, move it to ``path`` whole.

    Parameters
    ----------
    path : path
        The destination.
    overwrite : bool
        Replace an earlier nkest output at ``path``.
    what : str
        What is written, for messages ("report", "saved fit").
    directory : bool
        Whether the output is a directory (it then gets a manifest, unless
        ``is_nkest_file`` recognises it) or a file.
    is_nkest_file : callable, optional
        Tells whether an existing file at ``path`` is an nkest output.

    Raises
    ------
    OutputExistsError
        Before anything is written, if ``path`` may not be replaced.
    """
    path = Path(path)
    check_replaceable(path, overwrite=overwrite, what=what, is_nkest_file=is_nkest_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _sibling(path, "tmp")
    if directory:
        temporary.mkdir()
    try:
        yield temporary
        if directory and is_nkest_file is None:
            manifest = {"what": what, "files": _listing(temporary)}
            (temporary / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        # Checked again: something may have appeared at the path while the output was written.
        check_replaceable(path, overwrite=overwrite, what=what, is_nkest_file=is_nkest_file)
        _move_into_place(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def _move_into_place(temporary: Path, path: Path) -> None:
    if not path.exists():
        os.replace(temporary, path)
        return
    if path.is_file() and temporary.is_file():
        os.replace(temporary, path)  # atomic for a file
        return
    # A directory (or a file replaced by a directory): move the old one aside, put the
    # new one in place, then remove the old one; if the second move fails, restore it.
    old = _sibling(path, "old")
    os.replace(path, old)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.replace(old, path)
        raise
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
