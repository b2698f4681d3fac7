"""S3 objects an ingest run listed but could not read: left out one by one, unless none can be.

Credentials that list a bucket may still be denied some of its objects: an SSE-KMS object whose
key they may not use, a bucket policy denying one account's prefix. An object may also be gone
since the listing (a lifecycle rule, a redelivery), or archived to S3 Glacier Flexible Retrieval
or Deep Archive by the trail bucket's lifecycle rule (readable only once restored). Each such
object is left out (named in a warning, counted in `files_unreadable`, no manifest entry, so the
next run tries it again), and the run stores everything else. Credentials without s3:GetObject
are denied every object: that is one error, after the first few objects, not a warning for
each object of the archive.
"""

from __future__ import annotations

from typing import Final

from pipeline import s3client, sources
from pipeline.errors import (
    SourceObjectArchived,
    SourceObjectDenied,
    SourceObjectGone,
    SourceObjectUnreadable,
)

# A run whose first objects to complete are all denied, none read, stops (`denied_everything`)
# once at least 32 were denied and they lie in at least two account folders. 32 is what one
# fetch keeps in flight (2 x 16 workers): they complete within moments of each other, so the
# verdict costs no waiting, and objects denied one by one (a few SSE-KMS objects) are rarely all
# of the first 32. Two accounts, because objects are fetched in key order: one account's
# folder denied by a bucket policy or its own KMS key is often the first of an organization
# trail's listing, and the run must go on to the next account; when that one is denied too,
# the credentials read nothing. A listing of one account (or of no trail layout) that is all
# denied is the same error at the end of the run (`check_some_read`). Neither applies once
# earlier runs have read objects of the same sources: the credentials can read them.
ALL_DENIED_AFTER: Final = 32
ACCOUNTS_DENIED: Final = 2
# Denied, archived and gone objects each named in a warning; the rest are one line with their count,
# so a denied prefix or an archived year of thousands of objects does not flood the summary
# (`files_unreadable` counts all).
NAMED_AT_MOST: Final = 10


class _Capped:
    """Warnings of one kind: the first `NAMED_AT_MOST` as they are, then one line counting the
    rest, kept up to date in place."""

    def __init__(self, warnings: list[str], why: str) -> None:
        self._warnings = warnings
        self._why = why  # what the count line says of them
        self._more_at: int | None = None  # the index of the "... and N more" warning
        self.count = 0

    def add(self, warning: str) -> None:
        self.count += 1
        if self.count <= NAMED_AT_MOST:
            self._warnings.append(warning)
            return
        more = self.count - NAMED_AT_MOST
        line = (
            f"... and {more} more object{'s' if more > 1 else ''} could not be read "
            f"({self._why}, as above); the next run retries them"
        )
        if self._more_at is None:
            self._more_at = len(self._warnings)
            self._warnings.append(line)
        else:
            self._warnings[self._more_at] = line


class Unreadable:
    """What one run's downloads came to (read, denied, archived, gone), and the warnings for
    those it could not read.

    Downloads complete across the run's batches, so one object of this class lives for the run.
    """

    def __init__(self, warnings: list[str], *, read_before: bool = False) -> None:
        self._warnings = warnings
        # earlier runs read objects of these sources (the listing holds some the manifest
        # has): the credentials can read, so denials are warnings only, never the verdict
        self._read_before = read_before
        self._denied = _Capped(warnings, "access denied")
        self._archived = _Capped(warnings, "archived")
        self._gone = _Capped(warnings, "deleted or replaced since the listing")
        self._first: str | None = None  # the uri of the first object denied
        self.completed = 0  # S3 downloads that ended: read, denied, archived or gone
        self._accounts: set[str | None] = set()  # the account folders denied, while none read

    @property
    def denied(self) -> int:
        """The S3 objects denied so far."""
        return self._denied.count

    def done(self) -> None:
        """An S3 object was read: not a verdict of denied."""
        self.completed += 1

    def skip(self, obj: sources.SourceObject, exc: SourceObjectUnreadable) -> None:
        """Name (or count) an object that could not be read; raise when every object to
        complete so far, at least `ALL_DENIED_AFTER`, was denied, in `ACCOUNTS_DENIED` account
        folders."""
        self.completed += 1
        if isinstance(exc, SourceObjectGone):
            self._gone.add(
                f"{exc} (not read this run; a replaced object is read by the next run that "
                "lists it)"
            )
            return
        if isinstance(exc, SourceObjectArchived):
            self._archived.add(f"{exc}; not read this run (fix: {exc.fix})")
            return
        if not isinstance(exc, SourceObjectDenied):  # pragma: no cover - the three kinds
            raise exc
        self._denied.add(f"{exc}; not read this run, the next run retries it (fix: {exc.fix})")
        if self._first is None:
            self._first = obj.uri
        if self.denied == self.completed and not self._read_before:
            if len(self._accounts) < ACCOUNTS_DENIED:
                self._accounts.add(obj.account_hint)
            if self.denied >= ALL_DENIED_AFTER and len(self._accounts) >= ACCOUNTS_DENIED:
                raise s3client.denied_everything(self._first, self.denied)

    def check_some_read(self) -> None:
        """At the end of the run: when every S3 object it tried was denied, and no earlier run
        read any of the sources' objects, the credentials may read nothing; raise the one error
        for that. (An object denied night after night, alone in a later run's listing, stays a
        warning: it never enters the manifest, so every run tries it again.)"""
        if self._first is not None and self.denied == self.completed and not self._read_before:
            raise s3client.denied_everything(self._first, self.denied)
