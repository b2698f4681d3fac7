"""A seeded AWS Organization CloudTrail simulator with ground truth (issue 3).

`simulate(out, days=..., seed=..., events=...)` writes an organization-trail corpus under
`out/AWSLogs/` and the truth files under `out/truth/`.
"""

from __future__ import annotations

from pipeline.simulate.run import DEFAULT_START, SimulationSummary, simulate

__all__ = ["DEFAULT_START", "SimulationSummary", "simulate"]
