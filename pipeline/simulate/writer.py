"""Organization-trail delivery: 5-minute gzip files per account and region, plus hourly digests.

Records arrive serialized; each is placed in the file of its delivery slot (event time plus a
few minutes, so events near midnight land in the next day's folder). Buffers are flushed when a
slot closes, and all of them when too many records are held, so memory stays flat however many
events are written. See cloudtrail-semantics.md §1.1.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pipeline.simulate.ids import Ids, iso
from pipeline.simulate.org import HOME_REGION, LOG_BUCKET, ORG_ID, REGIONS, TRAIL_NAME

SLOT = 300  # CloudTrail publishes about every 5 minutes
MAX_BUFFERED = 20_000  # records held before every open file is flushed early


@dataclass(frozen=True)
class LogFile:
    """One delivered log file, as a digest lists it."""

    account: str
    region: str
    delivered: int
    key: str
    sha256: str
    oldest: int
    newest: int


class _Bucket:
    __slots__ = ("newest", "oldest", "records")

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.oldest = 1 << 62
        self.newest = 0


def _gz(body: bytes, level: int) -> bytes:
    # mtime=0 keeps the bytes identical run to run.
    return gzip.compress(body, compresslevel=level, mtime=0)


def _date_path(t: int) -> str:
    return time.strftime("%Y/%m/%d", time.gmtime(t))


class TrailWriter:
    """Buffers serialized records per (account, region, delivery slot) and writes log files."""

    def __init__(
        self,
        out: Path,
        ids: Ids,
        org_accounts: set[str],
        *,
        gzip_level: int = 1,
        dup_rate: float = 0.002,
    ) -> None:
        self.out = out
        self.ids = ids
        self.org_accounts = org_accounts
        self.gzip_level = gzip_level
        self.dup_rate = dup_rate
        self._buckets: dict[tuple[str, str, int], _Bucket] = {}
        self._slots: list[int] = []
        self._slot_seen: set[int] = set()
        self._dirs: set[Path] = set()
        self.buffered = 0
        self.records = 0
        self.duplicates = 0
        self.manifest: list[LogFile] = []
        self._rand = ids.rng.random

    def emit(self, record: dict[str, Any], account: str, region: str, t: int) -> bool:
        """Deliver `record` (recipient `account`, event time `t`); False if not delivered."""
        if account not in self.org_accounts:
            return False
        # orjson's result keeps its oversized build buffer; a right-sized copy holds ~10x less.
        data = bytes(memoryview(orjson.dumps(record)))
        r = self._rand()
        # Mostly 1-7 minutes; 2 % arrive 15-60 minutes late.
        delay = 60 + int(r * 367) if r < 0.98 else 900 + int((r - 0.98) * 135_000)
        self._put(data, account, region, t, t + delay)
        if (r * 1e6) % 1.0 < self.dup_rate:  # low digits of the same draw: independent enough
            self._put(data, account, region, t, t + delay + SLOT * (1 + int(self._rand() * 12)))
            self.duplicates += 1
        return True

    def _put(self, data: bytes, account: str, region: str, t: int, delivered: int) -> None:
        slot = delivered - delivered % SLOT + SLOT
        key = (account, region, slot)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
            if slot not in self._slot_seen:
                self._slot_seen.add(slot)
                heapq.heappush(self._slots, slot)
        bucket.records.append(data)
        if t < bucket.oldest:
            bucket.oldest = t
        if t > bucket.newest:
            bucket.newest = t
        self.records += 1
        self.buffered += 1
        if self.buffered > MAX_BUFFERED:
            self._spill()

    def advance(self, now: int) -> None:
        """Write every file whose delivery slot ends at or before `now` (nothing later can join)."""
        while self._slots and self._slots[0] <= now:
            slot = heapq.heappop(self._slots)
            self._slot_seen.discard(slot)
            for account in sorted(self.org_accounts):
                for region in REGIONS:
                    bucket = self._buckets.pop((account, region, slot), None)
                    if bucket is not None:
                        self._write(account, region, slot, bucket)

    def _spill(self) -> None:
        """Too much held: write the fullest buffers first until half the budget is free."""
        for key in sorted(self._buckets, key=lambda k: (-len(self._buckets[k].records), k)):
            self._write(*key, self._buckets.pop(key))
            if self.buffered <= MAX_BUFFERED // 2:
                break

    def flush_all(self) -> None:
        """Write every open buffer now (a busy slot then spans several files, as in real trails)."""
        for key in sorted(self._buckets):
            self._write(*key, self._buckets[key])
        self._buckets.clear()

    def close(self) -> None:
        """Write everything still buffered."""
        self.flush_all()
        self._slots.clear()
        self._slot_seen.clear()

    def _write(self, account: str, region: str, slot: int, bucket: _Bucket) -> None:
        records = bucket.records
        records.sort()  # by content, not time: records inside a file are not ordered
        body = b'{"Records":[' + b",".join(records) + b"]}"
        stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(slot))
        rel = (
            f"AWSLogs/{ORG_ID}/{account}/CloudTrail/{region}/{_date_path(slot)}/"
            f"{account}_CloudTrail_{region}_{stamp}_{self.ids.b62(16)}.json.gz"
        )
        data = _gz(body, self.gzip_level)
        self._write_bytes(rel, data)
        self.manifest.append(
            LogFile(
                account,
                region,
                slot,
                rel,
                hashlib.sha256(data).hexdigest(),
                bucket.oldest,
                bucket.newest,
            )
        )
        self.buffered -= len(records)

    def _write_bytes(self, rel: str, data: bytes) -> None:
        path = self.out / rel
        parent = path.parent
        if parent not in self._dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)
        path.write_bytes(data)


def write_digests(
    out: Path, manifest: list[LogFile], start: int, end: int, accounts: list[str]
) -> int:
    """Write one digest per account, region and hour in [start, end); returns the file count.

    The body follows the digest structure (no `Records` key). Signatures are placeholders: the
    simulator has no private key, so `*Signature` fields hold a SHA-256 of the body instead.
    """
    by_hour: dict[tuple[str, str, int], list[LogFile]] = {}
    for f in manifest:
        hour = f.delivered - f.delivered % 3600
        if f.delivered % 3600 == 0:
            hour -= 3600  # a file published at HH:00 belongs to the hour that just ended
        by_hour.setdefault((f.account, f.region, hour), []).append(f)
    fingerprint = hashlib.sha256(b"sts-audit simulator digest key").hexdigest()[:32]
    written = 0
    for account in accounts:
        for region in REGIONS:
            previous: dict[str, Any] | None = None
            for hour in range(start, end, 3600):
                files = sorted(by_hour.get((account, region, hour), []), key=lambda f: f.key)
                delivered = (
                    hour + 3600 + 120 + (int(account[-3:]) + REGIONS.index(region) * 7) % 300
                )
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(delivered))
                rel = (
                    f"AWSLogs/{ORG_ID}/{account}/CloudTrail-Digest/{region}/{_date_path(delivered)}/"
                    f"{account}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{HOME_REGION}_{stamp}.json.gz"
                )
                body: dict[str, Any] = {
                    "awsAccountId": account,
                    "digestStartTime": iso(hour),
                    "digestEndTime": iso(hour + 3600),
                    "digestS3Bucket": LOG_BUCKET,
                    "digestS3Object": rel,
                    "digestPublicKeyFingerprint": fingerprint,
                    "digestSignatureAlgorithm": "SHA256withRSA",
                    "newestEventTime": iso(max(f.newest for f in files)) if files else None,
                    "oldestEventTime": iso(min(f.oldest for f in files)) if files else None,
                    "previousDigestS3Bucket": LOG_BUCKET if previous else None,
                    "previousDigestS3Object": previous["key"] if previous else None,
                    "previousDigestHashValue": previous["hash"] if previous else None,
                    "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                    "previousDigestSignature": previous["sig"] if previous else None,
                    "logFiles": [
                        {
                            "s3Bucket": LOG_BUCKET,
                            "s3Object": f.key,
                            "hashValue": f.sha256,
                            "hashAlgorithm": "SHA-256",
                            "newestEventTime": iso(f.newest),
                            "oldestEventTime": iso(f.oldest),
                        }
                        for f in files
                    ],
                }
                raw = orjson.dumps(body)
                data = _gz(raw, 6)
                path = out / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                previous = {
                    "key": rel,
                    "hash": hashlib.sha256(data).hexdigest(),
                    "sig": hashlib.sha256(raw).hexdigest(),
                }
                written += 1
    return written
