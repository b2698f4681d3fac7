"""Local sources: the walk of files and folders on disk, and what a walk leaves out and why.

`discover_local` yields the objects under a local path, one folder's files at a time, and
`local_root` checks a source before a lake is made for it. A walk leaves out names starting with
"." or "_" (`is_skipped`, which the S3 listing applies too) and, on disk, what is not a regular
file; it tells `on_left_out` (`LeftOut`) and `on_unreadable` (`Unreadable`) why, with the
reasons defined here, so the ingest can tell them apart.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from pipeline.errors import SourceError
from pipeline.layout import Folder, SourceObject, delivered_before, make_object


def is_skipped(name: str) -> bool:
    """Whether a walk leaves out a file or folder of this name (`HIDDEN`); on S3 as on disk."""
    return name.startswith((".", "_"))


def local_root(source: str) -> tuple[Path, os.stat_result]:
    """The local source `source`, resolved, and its stat; a SourceError naming the fix when it
    is missing or cannot be read (checked before a lake is created for it, and by the walk)."""
    if not _is_text(source):
        raise SourceError(f"{printable(source)}: {NOT_UTF8}", fix="rename it")
    if not source.strip():
        # Path("") is the current folder: `sts-audit ingest "$SRC"` with SRC unset would ingest
        # whatever is there
        raise SourceError(
            "an empty source path",
            fix="name a file or folder (. for the current folder) or an s3:// location",
        )
    try:
        root = Path(source).expanduser().resolve(strict=True)
        return root, root.stat()
    except FileNotFoundError:
        raise SourceError(
            f"{source}: no such file or folder",
            fix="check the path, or write S3 locations as s3://BUCKET/PREFIX",
        ) from None
    except OSError as exc:
        raise SourceError(
            f"{source}: cannot read it ({exc.strerror or exc})",
            fix="check the path and its permissions",
        ) from None


def discover_local(
    source: str,
    since: dt.date | None = None,
    on_unreadable: Unreadable | None = None,
    on_left_out: LeftOut | None = None,
) -> Iterator[SourceObject]:
    """The objects under the local path `source` (or the file it names), as `sources.stream`
    describes."""
    root, st = local_root(source)
    if not root.is_dir():
        if not stat.S_ISREG(st.st_mode):
            # a pipe or a device: reading it would wait for a writer forever (a walk skips them)
            raise SourceError(
                f"{source}: not a regular file (a pipe or a device)",
                fix="save what it carries to a file and ingest that file",
            )
        yield make_object(str(root), root.as_posix(), st.st_size, str(st.st_mtime_ns), named=True)
        return
    if since is not None and delivered_before(root.as_posix(), since):
        return  # a day folder named as the source, older than --since: as on S3, nothing

    # A rerun over a big archive is mostly this walk, so a file costs one stat and one object:
    # an explicit stack over os.scandir of an open folder (DirEntry caches the type, and its
    # stat is an fstatat relative to the folder, not a lookup of the whole path again), with
    # what the folder's path says worked out once per folder (layout.Folder). One folder's files are
    # held at a time (a CloudTrail day folder holds a few hundred).
    # Symlinked folders are not followed (loops); symlinked files are read.
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                found = _walk_folder(folder, fd, stack, since, on_unreadable, on_left_out)
            finally:
                os.close(fd)
        except OSError as exc:
            name = exc.filename if isinstance(exc.filename, str) else ""
            path, reason = str(Path(folder, name)), exc.strerror or str(exc)
            if on_unreadable is None or folder == str(root):
                raise SourceError(
                    f"{printable(path)}: cannot read it ({reason})",
                    fix="fix its permissions, or pass only what can be read",
                ) from None
            on_unreadable(path, reason, True)  # one folder of the archive: the rest is read
            continue
        yield from found


def _walk_folder(
    folder: str,
    fd: int,
    stack: list[str],
    since: dt.date | None = None,
    on_unreadable: Unreadable | None = None,
    on_left_out: LeftOut | None = None,
) -> list[SourceObject]:
    """The files of one folder (open as `fd`); its sub-folders go on `stack`, except trail day
    folders delivered before `since`, names that are not UTF-8 (`on_unreadable`), and what is
    left out by its name or type (`on_left_out`)."""
    make = Folder(folder).obj
    prefix = folder if folder.endswith("/") else folder + "/"  # the root folder is "/"
    found: list[SourceObject] = []
    with os.scandir(fd) as entries:
        for entry in entries:
            name = entry.name
            if name[0] in "._":  # is_skipped, inlined: it runs once a file
                if on_left_out is not None:
                    on_left_out(prefix + name, HIDDEN)
                continue
            if not (name.isascii() or _is_text(name)):
                if on_unreadable is None:
                    raise SourceError(f"{printable(prefix + name)}: {NOT_UTF8}", fix="rename it")
                on_unreadable(prefix + name, NOT_UTF8, entry.is_dir(follow_symlinks=False))
                continue
            if entry.is_file(follow_symlinks=False):
                uri = prefix + name
            elif entry.is_dir(follow_symlinks=False):
                if since is None or not delivered_before(prefix + name, since):
                    stack.append(prefix + name)
                continue
            elif (why := _left_out(entry)) is None:  # a symbolic link to a file
                uri = str(Path(prefix + name).resolve())
            else:
                if on_left_out is not None:
                    on_left_out(prefix + name, why)
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue  # deleted while we walk
            found.append(make(uri, name, st.st_size, str(st.st_mtime_ns)))
    return found


def _left_out(entry: os.DirEntry[str]) -> str | None:
    """Why a walk leaves out an entry that is neither a regular file nor a folder (sockets,
    fifos, devices, symbolic links to folders, dangling links, loops of links); None for a
    symbolic link to a file, which is read."""
    try:
        if entry.is_symlink() and entry.is_file():
            return None
        return FOLDER_LINK if entry.is_dir() else NOT_A_FILE
    except OSError as exc:  # a loop of links (ELOOP), or a target it may not look up
        return f"{LINK_NOT_FOLLOWED}: {exc.strerror or exc}"


Unreadable = Callable[[str, str, bool], None]
"""Told of what a walk leaves out: (path, reason, whether it is a folder)."""

LeftOut = Callable[[str, str], None]
"""Told of what a walk leaves out by its name or type, by design: (path or URI, reason). An
S3 name may be told more than once (a listing page and a folder level can both hold it)."""
HIDDEN: Final = "a name starting with . or _ (Spark and Hadoop markers, editors' files)"
FOLDER_LINK: Final = "a symbolic link to a folder, not followed (pass its target as a source)"
NOT_A_FILE: Final = "not a regular file (a pipe, socket or device, or a dangling link)"
LINK_NOT_FOLLOWED: Final = "a symbolic link that cannot be followed"

NOT_UTF8: Final = "its name is not UTF-8, which the lake needs"


def _is_text(name: str) -> bool:
    """Whether a name from the file system is UTF-8 (Python carries other bytes as lone
    surrogates, which DuckDB, Parquet and JSON cannot hold)."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def printable(path: str) -> str:
    """`path` as text that can be printed: bytes that are not UTF-8 as `\\xNN`."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
