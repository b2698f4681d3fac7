"""Source discovery: turn local paths and `s3://` URLs into the objects to ingest.

`stream` yields them as found (ingest feeds it to its on-disk catalog), `discover` returns them
sorted and each once, `fetch` makes each object available as a local file (S3 objects are
downloaded concurrently into a staging folder the caller owns). The walk of local folders is
`pipeline.local_files`, the listing of S3 `pipeline.s3listing`, and S3 itself (the client, URLs,
one object's download, errors) `pipeline.s3client`. What a path says about an object (its kind,
its account and org) is `pipeline.layout`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import local_files, s3client, s3listing
from pipeline.errors import SourceError, SourceObjectUnreadable
from pipeline.layout import SourceObject

# botocore is imported where S3 is used: a local ingest (and the CLI's start) does without it
if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["SourceObject", "discover", "fetch", "stream"]


def discover(sources: Sequence[str], *, s3: S3Client | None = None) -> list[SourceObject]:
    """Every object `stream` finds, each uri once (the first source naming it wins), sorted.

    Holds the whole listing: for a few sources (tests, a handful of files). `ingest` puts the
    stream into its on-disk catalog instead, so an archive of millions of files costs no memory.
    """
    found: dict[str, SourceObject] = {}
    for obj in stream(sources, s3=s3):
        found.setdefault(obj.uri, obj)
    # uris are unique, so ordering the tuples orders them by uri
    return sorted(found.values())


def stream(
    sources: Sequence[str],
    *,
    s3: S3Client | None = None,
    since: dt.date | None = None,
    on_unreadable: local_files.Unreadable | None = None,
    on_left_out: local_files.LeftOut | None = None,
) -> Iterator[SourceObject]:
    """Yield every object under the given local paths and `s3://bucket[/prefix]` URLs as found.

    Folders and prefixes are walked recursively; names starting with "." or "_" are skipped
    below the given root (Hadoop/Spark markers, editor droppings). A path or key named exactly
    is always included. Not sorted, and an object under two of the sources comes twice: the
    consumer orders and dedupes (`discover`, `pipeline.catalog`). Memory stays bounded by one
    folder's listing (local) or a few listing pages per worker (S3), whatever the archive's size.

    `since` leaves out a trail's day folders delivered before that day
    (`.../CloudTrail/REGION/YYYY/MM/DD/`, `layout.delivered_before`) without listing them: a
    nightly run over years of archive lists only the recent days. Files outside that layout
    are always included.

    A folder below a local source that cannot be listed (a permission), or a file or folder
    whose name is not UTF-8 (the lake's manifest and DuckDB need text), is handed to
    `on_unreadable` with the reason and the walk goes on; without it, or for the source itself,
    it is a SourceError. What a walk leaves out by its name or type (a hidden name; on disk, a
    symbolic link to a folder, a pipe, socket or device, a dangling link) is handed to
    `on_left_out` with the reason, so the run can say so.
    """
    for source in sources:
        if s3client.is_s3_url(source):
            s3client.parse_s3_url(source)  # a malformed URL fails before any client is made
            if s3 is None:
                s3 = s3client.make_s3_client()
            yield from s3listing.discover_s3(source, s3, since, on_left_out)
        else:
            yield from local_files.discover_local(source, since, on_unreadable, on_left_out)


def fetch(
    objects: Sequence[SourceObject],
    dest: Path,
    *,
    s3: S3Client | None = None,
    workers: int = 16,
    on_unreadable: Callable[[SourceObject, SourceObjectUnreadable], None] | None = None,
) -> Iterator[tuple[SourceObject, Path]]:
    """Yield `(object, local path)` for each object, downloading S3 objects into `dest`.

    An object that was listed but cannot be read now is handed to `on_unreadable` and left out
    (without it, the SourceObjectUnreadable is raised): deleted or replaced since the listing (a
    lifecycle rule, a redelivery racing the job), archived to S3 Glacier Flexible Retrieval or
    Deep Archive and not restored, or one the credentials may not read (`s3client._denied`).

    Local files are yielded as they are (no copy). S3 objects are downloaded by `workers` threads
    and yielded as they complete, with at most `2 * workers` downloads started and not yet
    yielded, so the caller bounds disk use by deleting each file once it is read.
    """
    remote: list[tuple[int, SourceObject]] = []
    for index, obj in enumerate(objects):
        if s3client.is_s3_url(obj.uri):
            remote.append((index, obj))
        else:
            yield obj, Path(obj.uri)
    if not remote:
        return
    if s3 is None:
        s3 = s3client.make_s3_client()
    client = s3
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(
            f"cannot create the staging folder {dest}: {exc.strerror or exc}",
            fix="pass a writable staging folder with free space",
        ) from None
    workers = max(1, workers)
    pending = iter(remote)
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sts-audit-fetch")
    running: dict[Future[Path], SourceObject] = {}

    def submit_more() -> None:
        while len(running) < 2 * workers:
            item = next(pending, None)
            if item is None:
                return
            index, obj = item
            target = dest / _staging_name(index, obj.uri)
            running[executor.submit(s3client.download, client, obj, target)] = obj

    try:
        submit_more()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f].uri):
                obj = running.pop(future)
                try:
                    path = future.result()  # raises the worker's SourceError
                except SourceObjectUnreadable as exc:
                    if on_unreadable is None:
                        raise
                    on_unreadable(obj, exc)  # may raise: nothing at all can be read
                    continue
                yield obj, path
            submit_more()
    finally:
        # On error or when the caller stops early: start nothing new and wait for the
        # downloads in flight, so no thread writes into `dest` after we return.
        executor.shutdown(wait=True, cancel_futures=True)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """`name` with anything but letters, digits, `.`, `_` and `-` replaced, at most 120 long."""
    return _UNSAFE.sub("_", name).lstrip("._-")[-120:] or "object"


def _staging_name(index: int, uri: str) -> str:
    """A unique file name in the staging folder that keeps the key's suffix and never has a `/`."""
    digest = hashlib.sha256(uri.encode()).hexdigest()[:12]
    return f"{index:07d}-{digest}-{safe_file_name(uri.rsplit('/', 1)[-1])}"
