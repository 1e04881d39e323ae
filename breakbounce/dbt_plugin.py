"""dbt-duckdb plugin: registers the UDFs and hands each connection the plan of the run.

Configured in ``profiles.yml``. For every DuckDB connection and cursor dbt opens, it sets
``bb_*`` DuckDB variables (run date, warmup sessions, the exact Bronze file lists, the Gold target)
that the models read with ``getvariable()``. Because they are evaluated when a query runs, never
rendered into a view's DDL, every model always reads the date of the current invocation.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from breakbounce import bronze, gold
from breakbounce.plan import BronzeError, RunPlan, plan_run, validate_plan


def _empty_file(spec: bronze.BronzeTable) -> str:
    """A zero-row parquet file with the contract schema, read in place of an absent table."""
    path = Path(tempfile.gettempdir()) / "breakbounce-empty" / f"{spec.name}-v1.parquet"
    if not path.exists():
        bronze.atomic_write_parquet(spec.schema.empty_table(), path)
    return str(path)


def _sql_list(values: list[str], cast: str) -> str:
    if not values:
        return f"[]::{cast}[]"
    # one cast of the whole list: parsed on every dbt node's cursor, a cast per element costs ms
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + f"]::{cast}[]"


_FINGERPRINT_TYPE = "struct(session_date date, bronze_fingerprint varchar)"


def variable_statements(plan: RunPlan | None, gold_root: str) -> list[str]:
    """The ``set variable bb_* = ...`` statements that hand ``plan`` to a DuckDB connection."""
    empty = {s.name: _empty_file(s) for s in bronze.TABLES.values()}
    if plan is None:
        values = {
            "bb_date": "null::date",
            "bb_sma_sessions": "[]::date[]",
            "bb_volume_sessions": "[]::date[]",
            "bb_es_trades_files": _sql_list([empty["futures_trades"]], "varchar"),
            "bb_mbp10_files": _sql_list([empty["futures_mbp10"]], "varchar"),
            "bb_option_files": _sql_list([empty["option_trades"]], "varchar"),
            "bb_gold_file": "null::varchar",
            "bb_warmup_fingerprints": f"[]::{_FINGERPRINT_TYPE}[]",
        }
    else:
        values = {
            "bb_date": f"'{plan.date}'::date",
            "bb_sma_sessions": _sql_list(plan.sma_sessions, "date"),
            "bb_volume_sessions": _sql_list(plan.volume_sessions, "date"),
            "bb_es_trades_files": _sql_list(plan.es_trade_files, "varchar"),
            "bb_mbp10_files": _sql_list(plan.mbp10_files or [empty["futures_mbp10"]], "varchar"),
            "bb_option_files": _sql_list(plan.option_files or [empty["option_trades"]], "varchar"),
            "bb_gold_file": "'" + gold.gold_file(gold_root, plan.date).replace("'", "''") + "'",
            "bb_warmup_fingerprints": "["
            + ", ".join(f"{{'session_date': '{d}', 'bronze_fingerprint': '{fp}'}}"
                        for d, fp in sorted(plan.warmup_fingerprints.items()))
            + f"]::{_FINGERPRINT_TYPE}[]",
        }
    values["bb_has_mbp10"] = "true" if plan is not None and plan.mbp10_files else "false"
    values["bb_has_options"] = "true" if plan is not None and plan.option_files else "false"
    return [f"set variable {k} = {v}" for k, v in values.items()]


class Plugin(BasePlugin):
    def initialize(self, config: dict[str, Any]) -> None:
        # `--vars '{date: D}'` wins; the CLI passes BB_DATE instead, which keeps the rendered profile
        # identical across dates so dbt can reuse its parse (vars changes force a full re-parse)
        self.date = str(config.get("date") or os.environ.get("BB_DATE") or "").strip() or None
        self.bronze_root = os.path.abspath(str(config.get("bronze_root") or "data/bronze"))
        self.gold_root = os.path.abspath(str(config.get("gold_root") or "data/gold"))
        self.sma_warmup = int(config.get("sma_warmup_sessions") or 3)
        self.volume_lookback = int(config.get("volume_lookback_sessions") or 7)
        self._plan: RunPlan | None = None
        self._statements: list[str] | None = None

    # -- the plan, made once per dbt invocation ---------------------------------------------------
    def plan(self) -> RunPlan | None:
        if self.date is None:
            return None
        if self._plan is None:
            try:
                plan = plan_run(self.date, self.bronze_root, self.sma_warmup, self.volume_lookback)
                validate_plan(plan)
            except BronzeError as exc:
                raise DbtRuntimeError(f"breakbounce: {exc}") from None
            for w in plan.warnings:
                print(f"breakbounce warning: {w}", flush=True)
            self._plan = plan
        return self._plan

    def _variable_statements(self) -> list[str]:
        if self._statements is None:
            self._statements = variable_statements(self.plan(), self.gold_root)
        return self._statements

    def _configure(self, con) -> None:
        for stmt in self._variable_statements():
            con.execute(stmt)

    # -- dbt-duckdb hooks -------------------------------------------------------------------------
    def configure_connection(self, conn) -> None:
        import python_udfs

        python_udfs.register(conn)
        gold.register_udfs(conn)
        self._configure(conn)

    def configure_cursor(self, cursor) -> None:
        self._configure(cursor)
