"""sts-audit: offline audit of AWS STS temporary credentials from CloudTrail."""

__version__ = "0.1.0"
