"""Synthetic Bronze market data (ES trades, ES MBP-10, SPY 0DTE option trades) with planted events.

Public API::

    generate_range(start, end, out, seed=7, scale="test", scenario=None, progress=None) -> list[dict]
    generate_session(date, out, seed=7, scale="test", scenario=None) -> dict
    load_scenario(path_or_name_or_None)        # validated scenario; None: each session draws a day template
    truth_path(out, date) -> Path              # <out>/_truth/date=<D>/truth.json

Modules: params (constants, streams, contracts, regime), clock (session clock, activity), scenario
(planted-event plan), path (price path), trades, book (MBP-10), options, verify (reference checks
of the plan), writer (Bronze sink), generate (orchestration), cli (``breakbounce generate``).
"""

import importlib

# attribute -> defining module, imported on first use: `breakbounce run` builds the CLI parser
# (which imports breakbounce.synth.cli) and must not pay for the generator's imports
_EXPORTS = {
    "generate_range": "generate",
    "generate_session": "generate",
    "truth_path": "generate",
    "SCALES": "params",
    "DEFAULT_SCENARIO": "scenario",
    "ScenarioError": "scenario",
    "load_scenario": "scenario",
    "DAY_TEMPLATE_SPECS": "scenario",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"breakbounce.synth.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'breakbounce.synth' has no attribute {name!r}")


__all__ = [
    "generate_range",
    "generate_session",
    "truth_path",
    "load_scenario",
    "DEFAULT_SCENARIO",
    "DAY_TEMPLATE_SPECS",
    "ScenarioError",
    "SCALES",
]
