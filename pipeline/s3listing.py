"""The listing of `s3://` sources: a bucket or prefix walked concurrently, its objects yielded.

`discover_s3` yields the objects under an `s3://` URL (and the object it names, if any), leaving
out what a local folder walk leaves out (`pipeline.local_files`); `check_s3` makes one listing
request before the lake is touched. The listing walks a big trail's folders and lists them side
by side (`side_by_side`), with a bounded queue between the listing threads and the consumer.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from pipeline.errors import SourceError
from pipeline.layout import (
    SourceObject,
    delivered_before,
    first_key_since,
    in_trail_layout,
    make_object,
)
from pipeline.local_files import HIDDEN, LeftOut, is_skipped
from pipeline.s3client import (
    DENIED_CODES,
    MISSING_CODES,
    S3_SCHEME,
    error_code,
    parse_s3_url,
    s3_error,
)

# botocore is imported where S3 is used: a local ingest (and the CLI's start) does without it
if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        HeadObjectOutputTypeDef,
        ObjectTypeDef,
        PaginatorConfigTypeDef,
    )

LIST_PAGE = 1000  # keys a listing request returns (the S3 maximum)
LIST_WORKERS = 16
LIST_FANOUT = 32  # enough folders to list side by side
# With --since, the walk goes down to the trail's year folders unless a level is wider than
# this and is not the trail's own (then it lists what is below in full)
LIST_WIDEST = LIST_FANOUT * 64
LIST_MAX_DEPTH = 8  # AWSLogs/o-ORG/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD
QUEUE_ITEMS = 2 * LIST_WORKERS  # listing pages waiting to be consumed (1,000 keys each)

T = TypeVar("T")


def discover_s3(
    url: str, s3: S3Client, since: dt.date | None = None, on_left_out: LeftOut | None = None
) -> Iterator[SourceObject]:
    """The objects under the `s3://` URL `url` (and the object it names), as `sources.stream`
    describes."""
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
        if error_code(exc) not in MISSING_CODES:
            raise s3_error(url, bucket, exc) from None
    except BotoCoreError as exc:
        raise s3_error(url, bucket, exc) from None
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
        code = error_code(exc)
        if code in MISSING_CODES or (denied_is_none and code in DENIED_CODES):
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
        if error_code(exc) in MISSING_CODES:
            # S3 answers a listing of a missing bucket NoSuchBucket: a bare 404 is a server
            # that is not S3 (an --endpoint-url with a path, another web server)
            raise SourceError(
                f"{url}: the endpoint answered 404 Not Found to a listing of bucket {bucket}: "
                "not an S3 endpoint?",
                fix="check --endpoint-url (scheme, host and port, no path) and the bucket name",
            ) from None
        raise s3_error(url, bucket, exc) from None
    except BotoCoreError as exc:
        raise s3_error(url, bucket, exc) from None


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
        if key.endswith("/") and not any(is_skipped(part) for part in rel):
            continue  # a folder marker
        if since is not None and _under_folder_delivered_before(key, since):
            continue
        hidden = next((i for i, part in enumerate(rel) if is_skipped(part)), None)
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
        if not is_skipped(folder.rstrip("/").rsplit("/", 1)[-1]):
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
