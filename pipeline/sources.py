"""Source discovery: turn local paths and `s3://` URLs into the objects to ingest.

`stream` yields them as found (ingest feeds it to its on-disk catalog), `discover` returns them
sorted and each once, `fetch` makes each object available as a local file (S3 objects are
downloaded concurrently into a staging folder the caller owns). What a path says about an
object (its kind, its account and org) is `pipeline.layout`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import queue
import re
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

from pipeline.errors import (
    SourceError,
    SourceObjectArchived,
    SourceObjectDenied,
    SourceObjectGone,
    SourceObjectUnreadable,
)
from pipeline.layout import (
    Folder,
    SourceObject,
    delivered_before,
    first_key_since,
    in_trail_layout,
    make_object,
)

# botocore is imported where S3 is used: a local ingest (and the CLI's start) does without it
if TYPE_CHECKING:
    from botocore.exceptions import BotoCoreError, ClientError
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        HeadObjectOutputTypeDef,
        ObjectTypeDef,
        PaginatorConfigTypeDef,
    )

__all__ = ["SourceObject", "discover", "fetch", "make_s3_client", "stream"]

S3_SCHEME = "s3://"
CHUNK = 1024 * 1024
LIST_PAGE = 1000  # keys a listing request returns (the S3 maximum)
LIST_WORKERS = 16
LIST_FANOUT = 32  # enough folders to list side by side
# With --since, the walk goes down to the trail's year folders unless a level is wider than
# this and is not the trail's own (then it lists what is below in full)
LIST_WIDEST = LIST_FANOUT * 64
LIST_MAX_DEPTH = 8  # AWSLogs/o-ORG/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD
# Retries of a download whose body broke off mid-stream; botocore retries only the request.
BODY_ATTEMPTS = 3
QUEUE_ITEMS = 2 * LIST_WORKERS  # listing pages waiting to be consumed (1,000 keys each)

T = TypeVar("T")


def make_s3_client(*, endpoint_url: str | None = None, region: str | None = None) -> S3Client:
    """The one place an S3 client is created; credentials and region come from the boto3 chain."""
    import boto3.session
    from botocore.config import Config

    config = Config(max_pool_connections=32, retries={"max_attempts": 5, "mode": "standard"})
    try:
        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise SourceError(
            f"--endpoint-url {endpoint_url!r}: {exc}",
            fix="write the server's URL with its scheme, e.g. http://127.0.0.1:9000",
        ) from None


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
    on_unreadable: Unreadable | None = None,
    on_left_out: LeftOut | None = None,
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
        if is_s3_url(source):
            parse_s3_url(source)  # a malformed URL fails before any client is made
            if s3 is None:
                s3 = make_s3_client()
            yield from _discover_s3(source, s3, since, on_left_out)
        else:
            yield from _discover_local(source, since, on_unreadable, on_left_out)


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
    Deep Archive and not restored, or one the credentials may not read (`_denied`).

    Local files are yielded as they are (no copy). S3 objects are downloaded by `workers` threads
    and yielded as they complete, with at most `2 * workers` downloads started and not yet
    yielded, so the caller bounds disk use by deleting each file once it is read.
    """
    remote: list[tuple[int, SourceObject]] = []
    for index, obj in enumerate(objects):
        if is_s3_url(obj.uri):
            remote.append((index, obj))
        else:
            yield obj, Path(obj.uri)
    if not remote:
        return
    if s3 is None:
        s3 = make_s3_client()
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
            running[executor.submit(_download, client, obj, target)] = obj

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


def is_s3_url(source: str) -> bool:
    """Whether `source` is an `s3://` URL (as the AWS CLI, the scheme is lowercase)."""
    return source.startswith(S3_SCHEME)


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split `s3://bucket/prefix` into bucket and prefix (the prefix may be empty)."""
    rest = url[len(S3_SCHEME) :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceError(
            f"{url}: the S3 URL names no bucket",
            fix="write it as s3://BUCKET or s3://BUCKET/PREFIX",
        )
    return bucket, prefix


def _is_skipped(name: str) -> bool:
    return name.startswith((".", "_"))


def local_root(source: str) -> tuple[Path, os.stat_result]:
    """The local source `source`, resolved, and its stat; a SourceError naming the fix when it
    is missing or cannot be read (checked before a lake is created for it, and by the walk)."""
    if not _is_text(source):
        raise SourceError(f"{printable(source)}: {NOT_UTF8}", fix="rename it")
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


def _discover_local(
    source: str,
    since: dt.date | None = None,
    on_unreadable: Unreadable | None = None,
    on_left_out: LeftOut | None = None,
) -> Iterator[SourceObject]:
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
    # what the folder's path says worked out once per folder (_Folder). One folder's files are
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
            if name[0] in "._":  # _is_skipped, inlined: it runs once a file
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
            elif entry.is_symlink() and entry.is_file():
                uri = str(Path(prefix + name).resolve())
            else:  # sockets, fifos, devices, symlinks to folders, dangling symlinks
                if on_left_out is not None:
                    on_left_out(prefix + name, FOLDER_LINK if entry.is_dir() else NOT_A_FILE)
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue  # deleted while we walk
            found.append(make(uri, name, st.st_size, str(st.st_mtime_ns)))
    return found


Unreadable = Callable[[str, str, bool], None]
"""Told of what a walk leaves out: (path, reason, whether it is a folder)."""

LeftOut = Callable[[str, str], None]
"""Told of what a walk leaves out by its name or type, by design: (path or URI, reason). An
S3 name may be told more than once (a listing page and a folder level can both hold it)."""
HIDDEN: Final = "a name starting with . or _ (Spark and Hadoop markers, editors' files)"
FOLDER_LINK: Final = "a symbolic link to a folder, not followed (pass its target as a source)"
NOT_A_FILE: Final = "not a regular file (a pipe, socket or device, or a dangling link)"

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


def _discover_s3(
    url: str, s3: S3Client, since: dt.date | None = None, on_left_out: LeftOut | None = None
) -> Iterator[SourceObject]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_s3_url(url)
    # A prefix is a folder: s3://b/logs lists logs/..., not logs-old/...
    base = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    listed = False
    try:
        for page in _list_s3(s3, bucket, base, since, on_left_out):
            listed = True
            yield from _page_objects(page, bucket, base, since, on_left_out)
        if prefix != base:
            # s3://bucket/some/key.json.gz names a single object, which S3 also lets keys
            # below it share (some/key.json.gz/x): the object too, whatever the listing holds.
            # Once the folder listed, a denied HEAD is a policy that grants reads only under
            # it (AWSLogs/*), not an object: s3://bucket/AWSLogs must still work
            head = _head(s3, bucket, prefix, denied_is_none=listed)
            if head is not None:
                listed = True
                yield make_object(
                    f"{S3_SCHEME}{bucket}/{prefix}",
                    prefix,
                    head["ContentLength"],
                    head["ETag"].strip('"'),
                    named=True,
                )
        if listed or not prefix:
            return  # an empty bucket is not an error; a prefix with nothing under it is
    except ClientError as exc:
        if _error_code(exc) not in {"404", "NoSuchKey"}:
            raise _s3_error(url, bucket, exc) from None
    except BotoCoreError as exc:
        raise _s3_error(url, bucket, exc) from None
    raise SourceError(
        f"{url}: no objects under this prefix in bucket {bucket}",
        fix="check the prefix (keys are case-sensitive), e.g. with `aws s3 ls`",
    )


def _head(
    s3: S3Client, bucket: str, key: str, *, denied_is_none: bool
) -> HeadObjectOutputTypeDef | None:
    """The object `key`'s metadata, None when there is no such object (or, with
    `denied_is_none`, when reading it is denied)."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = _error_code(exc)
        if code in {"404", "NoSuchKey"} or (denied_is_none and code in {"403", "AccessDenied"}):
            return None
        raise


def check_s3(url: str, s3: S3Client) -> None:
    """One listing request to `url`'s bucket: the credentials, region, endpoint and bucket
    work (a SourceError saying what to fix when they do not), before the lake is touched."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_s3_url(url)
    try:
        s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except ClientError as exc:
        if _error_code(exc) in {"404", "NoSuchKey"}:
            # S3 answers a listing of a missing bucket NoSuchBucket: a bare 404 is a server
            # that is not S3 (an --endpoint-url with a path, another web server)
            raise SourceError(
                f"{url}: the endpoint answered 404 Not Found to a listing of bucket {bucket}: "
                "not an S3 endpoint?",
                fix="check --endpoint-url (scheme, host and port, no path) and the bucket name",
            ) from None
        raise _s3_error(url, bucket, exc) from None
    except BotoCoreError as exc:
        raise _s3_error(url, bucket, exc) from None


def _under_folder_delivered_before(key: str, since: dt.date) -> bool:
    """True when any folder above `key` is a trail day, month or year folder delivered before
    `since`: a folder walk on disk does not go into it (`2026/10/01-resent/x.json`)."""
    folder = key.rpartition("/")[0]
    while folder:
        if delivered_before(folder, since):
            return True
        folder = folder.rpartition("/")[0]
    return False


def _page_objects(
    items: list[ObjectTypeDef],
    bucket: str,
    base: str,
    since: dt.date | None = None,
    on_left_out: LeftOut | None = None,
) -> Iterator[SourceObject]:
    """The objects of one listing page, without folder markers, hidden names and (with `since`)
    day folders delivered before it (the walk in `_list_s3` skips most of them; a listing that
    fits in one page is not walked, so it is filtered here)."""
    for item in items:
        key = item["Key"]
        rel = [part for part in key[len(base) :].split("/") if part]
        if key.endswith("/") and not any(_is_skipped(part) for part in rel):
            continue  # a folder marker
        if since is not None and _under_folder_delivered_before(key, since):
            continue
        hidden = next((i for i, part in enumerate(rel) if _is_skipped(part)), None)
        if hidden is not None:  # the same names a local folder walk skips
            if on_left_out is not None:  # the hidden file, or the hidden folder it is in
                end = "/" if hidden < len(rel) - 1 or key.endswith("/") else ""
                on_left_out(f"{S3_SCHEME}{bucket}/{base}{'/'.join(rel[: hidden + 1])}{end}", HIDDEN)
            continue
        uri = f"{S3_SCHEME}{bucket}/{key}"
        yield make_object(uri, key, item["Size"], item["ETag"].strip('"'), named=False)


# A page yielded by _list_s3 can be an empty list (a folder level with sub-folders only): it
# still says that the prefix holds something.
def _list_s3(
    s3: S3Client,
    bucket: str,
    base: str,
    since: dt.date | None = None,
    on_left_out: LeftOut | None = None,
) -> Iterator[list[ObjectTypeDef]]:
    """Every listing page under `base`, as the pages arrive (not in key order).

    One paginated listing is sequential (1,000 keys a request), so a big trail would take
    minutes. When the first page is not all there is, walk the "folders" level by level with a
    delimiter until there are enough of them, then list each one in full, side by side. Pages
    pass through a bounded queue, so a year of an organization's trail (millions of keys)
    never sits in memory.

    With `since`, day folders delivered before it are dropped as the walk finds them, the walk
    goes on down to the trail's year folders (whatever the fan-out), and a year is listed from
    its first day on or after `since` (StartAfter), so old days cost no request (the files
    directly in that year's and that month's folders, which StartAfter can pass, take one
    request each). Hidden folders a level lists are not walked: `on_left_out` is told of them.
    """

    def shown(folder: str) -> bool:
        if not _is_skipped(folder.rstrip("/").rsplit("/", 1)[-1]):
            return True
        if on_left_out is not None:
            on_left_out(f"{S3_SCHEME}{bucket}/{folder}", HIDDEN)
        return False

    first = s3.list_objects_v2(Bucket=bucket, Prefix=base, MaxKeys=LIST_PAGE)
    if not first.get("IsTruncated"):
        if first.get("Contents"):
            yield first["Contents"]
        return
    paging: PaginatorConfigTypeDef = {"PageSize": LIST_PAGE}

    def list_level(prefix: str) -> tuple[list[ObjectTypeDef], list[str]]:
        # one level of one folder: its own keys (few, in a trail) and its sub-folders
        items: list[ObjectTypeDef] = []
        folders: list[str] = []
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/", PaginationConfig=paging
        )
        for page in pages:
            items.extend(page.get("Contents", []))
            folders.extend(p["Prefix"] for p in page.get("CommonPrefixes", []) if "Prefix" in p)
        return items, folders

    def list_all(prefix: str) -> Iterator[list[ObjectTypeDef]]:
        start = first_key_since(prefix, since) if since is not None else None
        paginator = s3.get_paginator("list_objects_v2")
        if start is None:
            pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig=paging)
        else:
            # files and folders beside the day folders, in the year or the month of `since`,
            # whose names sort before its day: StartAfter passes them, but they are not day or
            # month folders delivered before it (01-resent/, 0-import/), so on disk they are
            # read; one request for each of these two folders, and the odd folders in full
            assert since is not None  # a start comes from `since`
            for folder in (start[: -len("MM/DD")], start[: -len("DD")]):
                if not folder.startswith(prefix):
                    continue
                items, folders = list_level(folder)
                yield [item for item in items if item.get("Key", "") <= start]
                for sub in folders:
                    name = sub.rstrip("/")
                    if (
                        sub < start
                        and not start.startswith(sub)
                        and shown(sub)
                        and not delivered_before(name, since)
                    ):
                        for page in paginator.paginate(
                            Bucket=bucket, Prefix=sub, PaginationConfig=paging
                        ):
                            yield page.get("Contents", [])
            pages = paginator.paginate(
                Bucket=bucket, Prefix=prefix, StartAfter=start, PaginationConfig=paging
            )
        for page in pages:
            yield page.get("Contents", [])

    with ThreadPoolExecutor(LIST_WORKERS, thread_name_prefix="sts-audit-list") as pool:
        level = [base]
        ready: list[str] = []  # a trail's year folders, listed from `since` on
        # with `since` the walk goes down to the years, below whatever prefix was given
        for _ in range(LIST_MAX_DEPTH + (4 if since is not None else 0)):
            if since is not None:
                ready += [p for p in level if first_key_since(p, since) is not None]
                level = [p for p in level if first_key_since(p, since) is None]
                # an organization trail of 61 accounts has 2,074 region folders (two kinds of
                # files, 17 regions): they are still listed, each from `since` on; only a wide
                # level outside the layout is listed in full
                if len(level) >= LIST_WIDEST and not all(in_trail_layout(p) for p in level):
                    break
            elif len(level) >= LIST_FANOUT:
                break
            if not level:
                break
            below: list[str] = []
            for items, folders in pool.map(list_level, level):
                if items or folders:
                    yield items
                below.extend(
                    f
                    for f in folders
                    if shown(f) and (since is None or not delivered_before(f.rstrip("/"), since))
                )
            level = below
        yield from side_by_side(pool, list_all, ready + level)


def side_by_side(
    pool: ThreadPoolExecutor, produce: Callable[[str], Iterator[T]], keys: Sequence[str]
) -> Iterator[T]:
    """Run `produce(key)` for every key on the pool's threads; yield the items as they come.

    At most `QUEUE_ITEMS` items wait to be consumed: a producer blocks until the consumer takes
    one. A producer's exception is raised here; when the consumer stops early (an exception, or
    closing the generator), the producers stop at their next item.
    """
    items: queue.Queue[T] = queue.Queue(maxsize=QUEUE_ITEMS)
    stop = threading.Event()

    def run(key: str) -> None:
        for item in produce(key):
            while True:
                if stop.is_set():
                    return
                try:
                    items.put(item, timeout=0.05)
                    break
                except queue.Full:
                    continue

    futures = [pool.submit(run, key) for key in keys]
    try:
        while True:
            try:
                yield items.get(timeout=0.05)
                continue
            except queue.Empty:
                pass
            if all(f.done() for f in futures) and items.empty():
                break
        for future in futures:
            future.result()  # a producer's exception
    finally:
        stop.set()
        for future in futures:
            future.cancel()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _s3_error(url: str, bucket: str, exc: ClientError | BotoCoreError) -> SourceError:
    """One clear SourceError for the ways talking to S3 fails."""
    from botocore.exceptions import (
        BotoCoreError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
    )

    if isinstance(exc, NoCredentialsError):
        return SourceError(
            f"{url}: no AWS credentials found",
            fix="set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, EndpointConnectionError):
        # The error holds the whole request URL; the endpoint is its scheme and host.
        parts = urlsplit(str(exc.kwargs.get("endpoint_url", "")))
        endpoint = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        return SourceError(
            f"{url}: cannot connect to the S3 endpoint {endpoint}".rstrip(),
            fix="check --endpoint-url, the region and the network",
        )
    if isinstance(exc, NoRegionError):
        return SourceError(
            f"{url}: no AWS region configured", fix="set AWS_REGION or the profile's region"
        )
    if isinstance(exc, ParamValidationError):
        return SourceError(
            f"{url}: not a valid S3 location ({exc})",
            fix="write it as s3://BUCKET/PREFIX with a valid bucket name",
        )
    if isinstance(exc, BotoCoreError):
        return SourceError(
            f"{url}: S3 request failed ({exc})",
            fix="check --endpoint-url, the region and the network",
        )
    code = _error_code(exc)
    if code in {"NoSuchKey", "404"}:
        return SourceError(
            f"{url}: no such object in bucket {bucket} (deleted since it was listed?)",
            fix="check the key, or run the command again to list the sources afresh",
        )
    if code == "NoSuchBucket":
        return SourceError(
            f"{url}: bucket {bucket} does not exist",
            fix="check the bucket name (and --endpoint-url if you use one)",
        )
    if code in {"AccessDenied", "AllAccessDisabled", "403", "AccountProblem"}:
        return SourceError(
            f"{url}: access denied to bucket {bucket}",
            fix="use credentials allowed s3:ListBucket and s3:GetObject on it (check AWS_PROFILE)",
        )
    if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}:
        return SourceError(
            f"{url}: AWS rejected the credentials ({code})",
            fix="refresh the credentials (e.g. `aws sso login`) or check AWS_PROFILE",
        )
    if code in {
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "301",
        "IllegalLocationConstraintException",
    }:
        return SourceError(
            f"{url}: bucket {bucket} is in another region ({code})",
            fix="set AWS_REGION to the bucket's region",
        )
    message = exc.response.get("Error", {}).get("Message") or str(exc)
    return SourceError(
        f"{url}: S3 error {code}: {message}", fix="check the bucket, prefix and credentials"
    )


# GetObject denied after a listing that succeeded: a bucket policy or an SSE-KMS key that denies
# this object (or a prefix), or no s3:GetObject at all (`denied_everything`). Codes of a whole
# bucket or account (AllAccessDisabled, AccountProblem) stay errors of the run.
DENIED_CODES: Final = frozenset({"AccessDenied", "403"})
GET_OBJECT_FIX: Final = (
    "allow these credentials s3:GetObject on it, and kms:Decrypt on its SSE-KMS key"
)


def _is_denied(exc: ClientError) -> bool:
    """GetObject was refused for this object: denied, or its KMS key would not decrypt it (S3
    passes on KMS's errors as `KMS.*` codes: a disabled or deleted key, a key it may not use)."""
    code = _error_code(exc)
    return code in DENIED_CODES or code.startswith("KMS.")


def _denied(uri: str, exc: ClientError) -> SourceObjectDenied:
    """The error for one object the credentials listed but may not read, saying why."""
    code = _error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")).lower()
    if code.startswith("KMS."):
        why = f"S3 could not decrypt it with its SSE-KMS key ({code})"
    elif "kms" in message or "ciphertext" in message:
        why = "access denied by its SSE-KMS key (the credentials may not use the key)"
    else:
        why = (
            "access denied reading it (the credentials may list the bucket but not read this "
            "object: an SSE-KMS key they may not use, a bucket policy?)"
        )
    return SourceObjectDenied(f"{uri}: {why}", fix=GET_OBJECT_FIX)


def denied_everything(first: str, tried: int) -> SourceError:
    """The error when every object tried (`tried`, from the one at uri `first`) was denied and
    none read: the credentials lack s3:GetObject (or kms:Decrypt) on the sources, which is
    one clear error, not a warning for each object of the archive."""
    bucket, _ = parse_s3_url(first)
    each = f"all {tried} objects tried" if tried > 1 else "the only object to read"
    return SourceError(
        f"{first}: access denied to bucket {bucket}: GetObject was refused for {each}, and "
        "none could be read",
        fix="use credentials allowed s3:GetObject on the bucket, and kms:Decrypt on its SSE-KMS "
        "key (check AWS_PROFILE); if only some prefixes are denied, pass the others as sources",
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """`name` with anything but letters, digits, `.`, `_` and `-` replaced, at most 120 long."""
    return _UNSAFE.sub("_", name).lstrip("._-")[-120:] or "object"


def _staging_name(index: int, uri: str) -> str:
    """A unique file name in the staging folder that keeps the key's suffix and never has a `/`."""
    digest = hashlib.sha256(uri.encode()).hexdigest()[:12]
    return f"{index:07d}-{digest}-{safe_file_name(uri.rsplit('/', 1)[-1])}"


def _download(s3: S3Client, obj: SourceObject, target: Path) -> Path:
    """Download one object to `target`, checking it is still the version that was listed."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = parse_s3_url(obj.uri)
    partial = target.with_name("." + target.name + ".part")
    try:
        for attempt in range(1, BODY_ATTEMPTS + 1):
            response = s3.get_object(Bucket=bucket, Key=key)
            if response["ETag"].strip('"') != obj.version:
                response["Body"].close()
                raise SourceObjectGone(
                    f"{obj.uri}: the object changed after it was listed",
                    fix="run the command again; it lists the sources afresh",
                )
            written = 0
            try:
                with partial.open("wb") as out:
                    for chunk in response["Body"].iter_chunks(CHUNK):
                        out.write(chunk)
                        written += len(chunk)
            except BotoCoreError:
                # The body broke off mid-stream (reset, timeout, short read): try again.
                if attempt == BODY_ATTEMPTS:
                    raise
                continue
            if written != obj.size:
                raise SourceError(
                    f"{obj.uri}: downloaded {written} bytes, expected {obj.size}",
                    fix="run the command again",
                )
            partial.replace(target)
            return target
    except (ClientError, BotoCoreError) as exc:
        error = _s3_error(obj.uri, bucket, exc)
        if isinstance(exc, ClientError) and _error_code(exc) in {"NoSuchKey", "404"}:
            raise SourceObjectGone(str(error), fix=error.fix) from None
        if isinstance(exc, ClientError) and _is_denied(exc):
            raise _denied(obj.uri, exc) from None
        if isinstance(exc, ClientError) and _error_code(exc) == "InvalidObjectState":
            raise SourceObjectArchived(
                f"{obj.uri}: archived (S3 Glacier Flexible Retrieval or Deep Archive, or an "
                "Intelligent-Tiering archive tier) and not restored: GetObject cannot read it",
                fix="restore it (`aws s3api restore-object`), or leave its days out with --since",
            ) from None
        raise error from None
    except OSError as exc:
        raise SourceError(
            f"cannot download {obj.uri} into {target.parent}: {exc.strerror or exc}",
            fix="check the staging folder is writable and has free space",
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover
