"""dbt-duckdb plugin: registers the UDFs and hands each connection the plan of the run.

Configured in ``profiles.yml``. For every DuckDB connection and cursor dbt opens, it sets
``bb_*`` DuckDB variables (run date, warmup sessions, the exact Bronze file lists, the Gold target)
that the models read with ``getvariable()``. Because they are evaluated when a query runs, never
rendered into a view's DDL, every model always reads the date of the current invocation.

Before dbt opens the warehouse it also: writes a new file in the storage format the DuckDB shell
reads (:data:`breakbounce.warehouse.STORAGE_COMPATIBILITY`), turns "another process holds the
file" into one line naming that process, and removes Gold temp files that killed runs left.
"""

from __future__ import annotations

import os
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from breakbounce import gold, params, storage, warehouse
from breakbounce.errors import UserError
from breakbounce.plan import RunPlan, plan_run, validate_plan

#: plan warnings already printed by this process (dbt may create the plugin more than once)
_WARNED: set[str] = set()


class Plugin(BasePlugin):
    def initialize(self, config: dict[str, Any]) -> None:
        # `--vars '{date: D}'` wins; the CLI passes BB_DATE instead, which keeps the rendered profile
        # identical across dates so dbt can reuse its parse (vars changes force a full re-parse)
        self.date = str(config.get("date") or os.environ.get("BB_DATE") or "").strip() or None
        # a path or an object-store URL (s3://bucket/prefix, read through fsspec: breakbounce/storage.py)
        self.bronze_root = storage.absolute(str(config.get("bronze_root") or "data/bronze"))
        self.gold_root = storage.absolute(str(config.get("gold_root") or "data/gold"))
        # the run-shaping vars of this invocation's --vars (profiles.yml passes '' for those not
        # given); the others come from dbt_project.yml, where they are declared (breakbounce.params)
        self.dbt_vars = {k: config[k] for k in params.RUN_SHAPE_VARS if str(config.get(k) or "").strip()}
        # `--vars '{allow_gaps: true}'`, or BB_ALLOW_GAPS=true (breakbounce run --allow-gaps sets it)
        self.allow_gaps = str(config.get("allow_gaps") or "").strip().lower() in ("true", "1", "yes")
        self._plan: RunPlan | None = None
        self._statements: list[str] | None = None

    # -- the plan, made once per dbt invocation ---------------------------------------------------
    def plan(self) -> RunPlan | None:
        if self.date is None:
            return None
        if self._plan is None:
            try:
                plan = plan_run(self.date, self.bronze_root, allow_gaps=self.allow_gaps, dbt_vars=self.dbt_vars)
                validate_plan(plan)
            except UserError as exc:  # BronzeError, or an s3:// URL without the s3 extra
                raise DbtRuntimeError("\n".join([f"breakbounce: {exc}", *exc.details])) from None
            except ValueError as exc:  # a run-shaping var that is not a whole number
                raise DbtRuntimeError(f"breakbounce: --vars: {exc}") from None
            for w in plan.warnings:
                if w not in _WARNED:
                    _WARNED.add(w)
                    print(f"breakbounce warning: {w}", flush=True)
            self._plan = plan
        return self._plan

    def _variable_statements(self) -> list[str]:
        if self._statements is None:
            self._statements = warehouse.variable_statements(self.plan(), self.gold_root)
        return self._statements

    def _configure(self, con) -> None:
        for stmt in self._variable_statements():
            con.execute(stmt)

    # -- dbt-duckdb hooks -------------------------------------------------------------------------
    def update_connection_config(self, creds, config: dict[str, Any]) -> None:
        """Called right before dbt opens the warehouse."""
        for key, value in warehouse.file_config().items():
            config.setdefault(key, value)
        if self.date is not None:
            gold.remove_stale_temp_files(self.gold_root)
        path = getattr(creds, "path", None)
        if path and path != ":memory:" and os.path.exists(path):
            # dbt's own attempt fails with three tracebacks; a probe turns a held lock into one line
            try:
                duckdb.connect(path, config=dict(config)).close()
            except duckdb.IOException as exc:
                locked = warehouse.lock_message(str(exc), path)
                if locked:
                    raise DbtRuntimeError(f"breakbounce: {locked}") from None
                raise

    def configure_connection(self, conn) -> None:
        warehouse.configure_build_connection(conn)
        plan = self.plan()
        try:  # Bronze on an object store: DuckDB reads it through fsspec
            storage.register(conn, self.bronze_root, known=plan.file_entries if plan else None)
        except UserError as exc:
            raise DbtRuntimeError(f"breakbounce: {exc}") from None
        self._configure(conn)

    def configure_cursor(self, cursor) -> None:
        self._configure(cursor)
