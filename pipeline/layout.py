"""What a path or key says about a CloudTrail object: its kind, and the account and org it names.

The layout rules follow the CloudTrail docs
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html):
`AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail[-Digest|-Insight]/REGION/YYYY/MM/DD/` and delivery file names
that start with the account. `pipeline.local_files` and `pipeline.s3listing` walk folders and
buckets and build a `SourceObject` per file with these rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import NamedTuple

KINDS = ("events", "digest", "insight", "other")
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz")
# ASCII digits only, to the end of the string (`\d` takes any script's digits, `$` a final newline)
ACCOUNT_RE = re.compile(r"[0-9]{12}\Z")
# "o-" followed by 10 to 32 lowercase letters or digits (AWS Organizations API reference).
ORG_ID_RE = re.compile(r"o-[a-z0-9]{10,32}\Z")
# Delivery file names start with the account: ACCOUNT_CloudTrail[-Digest|-Insight]_REGION_...
FILE_ACCOUNT_RE = re.compile(r"([0-9]{12})_CloudTrail(?:-Digest|-Insight)?_")
# The objects Amazon Data Firehose writes (a trail's CloudWatch Logs log group through a
# subscription filter): STREAM[-VERSION]-YYYY-MM-DD-HH-MM-SS-UUID, then the stream's file
# extension if it has one (`.gz`, `.json.gz`, ...); gzip inside, whatever the name says
FIREHOSE_NAME_RE = re.compile(
    r".-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.[A-Za-z0-9]{1,8}){0,2}\Z"
)


class SourceObject(NamedTuple):
    """One file or S3 object to ingest, with what its path says about it.

    A NamedTuple, not a dataclass: a rerun builds one for every file of the archive, and a
    frozen dataclass costs three times as much to create.
    """

    uri: str
    size: int
    version: str
    kind: str
    account_hint: str | None
    org_id_hint: str | None
    compressed: bool


def classify(path: str, *, named: bool = False) -> str:
    """The kind of object a path or key holds: events, digest, insight or other.

    `named` is true for a file or key the user named directly: whatever its suffix, the ingest
    engine is asked to read it.
    """
    if "/CloudTrail-Digest/" in path or "_CloudTrail-Digest_" in path:
        return "digest"
    if "/CloudTrail-Insight/" in path or "_CloudTrail-Insight_" in path:
        return "insight"
    if named or path.lower().endswith(EVENT_SUFFIXES) or is_firehose_name(path):
        return "events"
    return "other"


def is_firehose_name(path: str) -> bool:
    """Whether a path or key ends in the name Amazon Data Firehose gives its objects: their
    content is gzip (CloudWatch Logs subscription payloads), whatever the name says."""
    return FIREHOSE_NAME_RE.search(path) is not None


def path_hints(path: str) -> tuple[str | None, str | None]:
    """The (account, org id) that `.../AWSLogs/[o-ORGID/]ACCOUNT/...` in a path names, if any."""
    parts = [part for part in path.split("/") if part]
    account: str | None = None
    org_id: str | None = None
    # The last AWSLogs segment wins: in `o-xxx/AWSLogs/o-xxx/ACCOUNT/...` and in a local copy
    # of a bucket kept under some other `AWSLogs` folder, the innermost one is the delivery.
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] != "AWSLogs":
            continue
        after = parts[i + 1 : i + 3]
        if after and ORG_ID_RE.match(after[0]):
            org_id = after[0]
            after = after[1:]
        if after and ACCOUNT_RE.match(after[0]):
            account = after[0]
        if org_id is None and i > 0 and ORG_ID_RE.match(parts[i - 1]):
            # Landing-zone prefix form `o-xxx/AWSLogs/ACCOUNT/...`.
            org_id = parts[i - 1]
        break
    if account is None and parts:
        match = FILE_ACCOUNT_RE.match(parts[-1])
        if match:
            account = match.group(1)
    return account, org_id


@functools.lru_cache(maxsize=4096)
def folder_hints(folder: str) -> tuple[str | None, str | None]:
    # thousands of delivery files share a folder: work its hints out once (a rerun over a
    # large archive spends most of its time walking files)
    return path_hints(folder + "/")


class Folder:
    """What a folder's path says about every file in it, worked out once per folder.

    `classify` and `path_hints` on `folder/name` give the same answers as these checks on the
    folder plus the checks on `name` alone: a `/.../` pattern cannot reach into a name, and a
    name holds no `/`.
    """

    __slots__ = ("account", "digest", "insight", "org_id")

    def __init__(self, folder: str) -> None:
        self.account, self.org_id = folder_hints(folder)
        # classify() tests the digest patterns before the insight ones; obj() keeps that order
        self.digest = "/CloudTrail-Digest/" in folder + "/" or "_CloudTrail-Digest_" in folder
        self.insight = "/CloudTrail-Insight/" in folder + "/" or "_CloudTrail-Insight_" in folder

    def obj(self, uri: str, name: str, size: int, version: str) -> SourceObject:
        """The object for file `name` of this folder, found by a walk (not named by the user)."""
        # delivery files end in .json.gz: spare them the lower()
        lower = name if name.endswith(".json.gz") else name.lower()
        if self.digest or "_CloudTrail-Digest_" in name:
            kind = "digest"
        elif self.insight or "_CloudTrail-Insight_" in name:
            kind = "insight"
        elif lower.endswith(EVENT_SUFFIXES) or is_firehose_name(name):
            kind = "events"
        else:
            kind = "other"
        account = self.account
        if account is None:
            match = FILE_ACCOUNT_RE.match(name)
            account = match.group(1) if match else None
        compressed = lower.endswith(".gz") or (kind == "events" and is_firehose_name(name))
        return SourceObject(uri, size, version, kind, account, self.org_id, compressed)


def make_object(
    uri: str, layout_path: str, size: int, version: str, *, named: bool
) -> SourceObject:
    folder, _, name = layout_path.rpartition("/")
    account, org_id = folder_hints(folder)
    if account is None:
        match = FILE_ACCOUNT_RE.match(name)
        account = match.group(1) if match else None
    return SourceObject(
        uri=uri,
        size=size,
        version=version,
        kind=classify(layout_path, named=named),
        account_hint=account,
        org_id_hint=org_id,
        compressed=layout_path.lower().endswith(".gz") or is_firehose_name(layout_path),
    )


# A trail's delivery folders: .../CloudTrail[-Digest|-Insight]/REGION/YYYY/MM/DD/. The date is
# the delivery's (files land in the folder of the day they are written), so a file written
# today is never in an older day's folder, whatever its events' times.
_TRAIL_KIND = r"/CloudTrail(?:-Digest|-Insight)?/"  # the folder of one kind of trail file
_TRAIL_KIND_RE = re.compile(_TRAIL_KIND)
_TRAIL_REGION_RE = re.compile(rf"^(.*{_TRAIL_KIND}[a-z]{{2}}(?:-[a-z]+)+-\d/)", re.ASCII)
_TRAIL_DAY_RE = re.compile(
    rf"{_TRAIL_KIND}[a-z]{{2}}(?:-[a-z]+)+-\d/(\d{{4}})(?:/(\d{{2}})(?:/(\d{{2}}))?)?/?$",
    re.ASCII,
)


def in_trail_layout(path: str) -> bool:
    """Whether `path` is at or below a trail's kind folder (`.../CloudTrail[-Digest|-Insight]/`)."""
    return _TRAIL_KIND_RE.search(path) is not None


@functools.lru_cache(maxsize=4096)
def delivered_before(folder: str, since: dt.date) -> bool:
    """True when trail folder `folder` (a year, month or day of the layout) holds only files
    delivered before `since`; False for any other folder."""
    match = _TRAIL_DAY_RE.search("/" + folder)
    if match is None:
        return False
    year, month, day = match.groups()
    last = (int(year), int(month) if month else 12, int(day) if day else 31)
    return last < (since.year, since.month, since.day)


def first_key_since(prefix: str, since: dt.date) -> str | None:
    """For an S3 prefix that is a trail's year, month or day folder, a key every object
    delivered on or after `since` sorts after (listing's StartAfter). None for any other
    prefix, a region included: a region folder can hold keys outside the date folders (a
    backfill file), which may sort before the day and must still be listed."""
    if _TRAIL_DAY_RE.search("/" + prefix) is None:
        return None
    match = _TRAIL_REGION_RE.match("/" + prefix)
    assert match is not None  # a day folder is inside a region
    return match.group(1)[1:] + f"{since:%Y/%m/%d}"
