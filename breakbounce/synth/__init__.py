"""Synthetic Bronze market data (ES trades, ES MBP-10, SPY 0DTE option trades) with planted events.

Public API::

    generate_range(start, end, out, seed=7, scale="test", scenario=None, progress=None) -> list[dict]
    generate_session(date, out, seed=7, scale="test", scenario=None) -> dict
    load_scenario(path_or_None) -> dict        # validated scenario (default when None)
    truth_path(out, date) -> Path              # <out>/_truth/date=<D>/truth.json

Modules: params (constants, streams, contracts, regime), clock (session clock, activity), scenario
(planted-event plan), path (price path), trades, book (MBP-10), options, verify (reference checks
of the plan), writer (Bronze sink), generate (orchestration), cli (``breakbounce generate``).
"""

from breakbounce.synth.generate import generate_range, generate_session, truth_path
from breakbounce.synth.params import SCALES
from breakbounce.synth.scenario import DEFAULT_SCENARIO, ScenarioError, load_scenario

__all__ = [
    "generate_range",
    "generate_session",
    "truth_path",
    "load_scenario",
    "DEFAULT_SCENARIO",
    "ScenarioError",
    "SCALES",
]
