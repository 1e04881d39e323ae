{#-
  Accessors for the run plan that the breakbounce plugin sets on every connection (see
  breakbounce/dbt_plugin.py). They are evaluated when a query runs, never rendered into DDL.
-#}

{% macro run_date() -%}
    coalesce(
        getvariable('bb_date'),
        error('breakbounce: no run date; pass --vars ''{date: YYYY-MM-DD}'' to dbt')
    )
{%- endmacro %}

{#- Sessions (DATE) whose data this run reads: the run date plus its prior sessions with Bronze. -#}
{% macro run_sessions(kind='volume') -%}
    (select unnest(getvariable('bb_{{ kind }}_sessions')))
{%- endmacro %}

{#- The run's warmup sessions (every run session but the run date), one row per session with the
    fingerprint of the ES trades files planned for it: (session_date, bronze_fingerprint). -#}
{% macro warmup_fingerprints() -%}
    (select unnest(getvariable('bb_warmup_fingerprints'), recursive := true))
{%- endmacro %}
