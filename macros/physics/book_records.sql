{#-
  MBP-10 helpers shared by stg_bronze__es_mbp10 (the view) and int_book__snapshots_250ms.

  book_level_present(side, i, alias): the level holds a real quote (SPEC §2/§3): size > 0 and a
  price that is neither Databento's UNDEF sentinel (9223372036.854776 in the earlier Bronze) nor
  NaN. Exactly the condition under which the book_level() macro keeps a level (else NULL).
-#}
{% macro book_level_present(side, i, alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    coalesce({{ p }}{{ side }}_sz_{{ i }} > 0 and {{ p }}{{ side }}_px_{{ i }} < 1e9 and not isnan({{ p }}{{ side }}_px_{{ i }}), false)
{%- endmacro %}


{#-
  book_front_month_records(lead_ns, columns): the run date's raw Bronze MBP-10 rows that staging keeps,
  before duplicate copies are collapsed and before empty levels are NULLed:
    * the session's front-month contract (stg_bronze__es_front_month, SPEC §3);
    * ts_event_ns in [RTH open - lead_ns, RTH close);
    * not crossed/locked: rows whose (non-empty) ask_px_1 <= (non-empty) bid_px_1 are dropped,
      i.e. the same test as `not coalesce(ask_px_1 <= bid_px_1, false)` on NULLed levels.
  The time window is an inner join to the one calendar row. `columns`: the select list over the
  Bronze alias `m` (default every Bronze column, raw).
-#}
{% macro book_front_month_records(lead_ns, columns='m.*') -%}
    select {{ columns }}
    from {{ source('bronze', 'es_mbp10') }} as m
    inner join (
        -- an ungrouped aggregate: provably one row, so the planner uses a cheap nested-loop
        -- join / scan filter instead of an IEJoin that would sort every book row
        select min(rth_open_ns) - {{ lead_ns }} as from_ns, min(rth_close_ns) as to_ns
        from {{ ref('trading_calendar') }}
        where session_date = {{ run_date() }}
    ) as w
        on m.ts_event_ns >= w.from_ns and m.ts_event_ns < w.to_ns
    where m.symbol in (
            select front_contract
            from {{ ref('stg_bronze__es_front_month') }}
            where session_date = {{ run_date() }}
        )
        and not (
            {{ book_level_present('ask', 1, 'm') }}
            and {{ book_level_present('bid', 1, 'm') }}
            and m.ask_px_1 <= m.bid_px_1
        )
{%- endmacro %}


{#-
  Barrier constants (SPEC §7.2), in ns / exact 1e-9 ES points. The zone is fixed in ES ticks
  (8 x 0.25 = 2.00 ES points = $0.20 in the SPY frame at es_spy_ratio 10).
-#}
{#- MBP-10 is read from this long before the RTH open (dbt var mbp10_lead_minutes, which the plan's
    file list and completeness check use too): it must cover the first decision's barrier window and
    wall_ratio look-back (int_book__snapshots_250ms checks that at compile time). -#}
{% macro mbp10_lead_ns() %}{{ return(minutes_ns(var('mbp10_lead_minutes'))) }}{% endmacro %}
{% macro book_bucket_ns() %}{{ return(250000000) }}{% endmacro %}
{% macro barrier_window_ns() %}{{ return(seconds_ns(240)) }}{% endmacro %}
{% macro barrier_wall_lookback_ns() %}{{ return(minutes_ns(30)) }}{% endmacro %}
{% macro barrier_zone_e9() %}{{ return(8 * 250000000) }}{% endmacro %}

{#-
  The barrier state table's thresholds (SPEC §7.2) as the trailing arguments of bb_barrier_state, in
  the order python_udfs.barrier.BarrierThresholds lists them; each is a dbt var of dbt_project.yml.
-#}
{% macro barrier_state_thresholds() -%}
    {%- set names = ['barrier_vacuum_max_ratio', 'barrier_wall_min_ratio', 'barrier_absorption_min_ratio',
                     'barrier_flow_scale', 'barrier_weak_depth_scale', 'barrier_contested_delta_scale',
                     'barrier_contested_activity_scale'] -%}
    {%- for name in names -%}
        {%- set value = var(name) -%}
        {%- if value is not number or value < 0 -%}
            {{ exceptions.raise_compiler_error("breakbounce: " ~ name ~ " must be a non-negative number, got " ~ value) }}
        {%- endif -%}
        {{ value }}::double{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- The 40 raw level columns of a Bronze MBP-10 row, comma-separated (bid/ask px/sz, level 1..10). -#}
{% macro book_level_columns(alias=none) -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {%- for i in range(1, 11) -%}
    {{ p }}bid_px_{{ i }}, {{ p }}bid_sz_{{ i }}, {{ p }}ask_px_{{ i }}, {{ p }}ask_sz_{{ i }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
