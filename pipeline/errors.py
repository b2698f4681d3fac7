"""The errors sts-audit raises; the CLI prints them as one line with their fix."""

from typing import Final

# the note ingest adds to DuckDB's out-of-memory error, so the CLI gives ingest's advice
INGEST_OUT_OF_MEMORY: Final = "sts-audit: out of memory while ingesting"


class StsAuditError(Exception):
    """Base class: a problem the user can fix. `fix` says how."""

    fix: str = ""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        if fix:
            self.fix = fix


class ConfigError(StsAuditError):
    """The configuration file or an option value is wrong."""


class SourceError(StsAuditError):
    """A source (local path or S3 URL) cannot be found or read."""


class SourceObjectUnreadable(SourceError):
    """An S3 object that was listed cannot be read this run: it is left out, and the next run
    tries it again."""


class SourceObjectGone(SourceObjectUnreadable):
    """An S3 object listed moments ago was deleted or replaced before it was downloaded."""


class SourceObjectArchived(SourceObjectUnreadable):
    """An S3 object in S3 Glacier Flexible Retrieval or Deep Archive: GetObject reads it only
    once it is restored."""


class SourceObjectDenied(SourceObjectUnreadable):
    """An S3 object that was listed cannot be read with these credentials: GetObject was denied
    (a bucket policy, an SSE-KMS key they may not use) or its KMS key refused to decrypt it."""


class LakeError(StsAuditError):
    """The lake folder is missing, unreadable, or not an sts-audit lake."""


class StrictIngestError(StsAuditError):
    """`--strict` was given and some input was quarantined."""


class StrictAnalysisError(StsAuditError):
    """`--strict` was given and a chain was deeper than the walk (its origin is unknown)."""


class NoEventsFound(StsAuditError):
    """The lake holds no events for what was asked."""


class NotFound(StsAuditError):
    """A session, key or event asked for is not in the lake."""
