"""sts-audit benchmark harness (`make bench`)."""
