{#-
  Input gaps (SPEC §12, `--allow-gaps`): what a missing Bronze hour partition does to Gold.

  run_gaps(): the gaps the run was allowed to proceed over, one row per missing hour partition:
  (table_name 'es_trades' | 'es_mbp10', session_date, start_ns, end_ns), from the JSON run variable
  bb_gaps that breakbounce/plan.py fills ('[]' without gaps).

  gap_families(): the input windows of an event that a gap can overlap (int_quality__event_gaps has
  one boolean `gap_<family>` per family; docs/decisions.md, "Input and planning", explains each).

  gap_dependent_columns(): every Gold column that a gap can make wrong, with the families it
  depends on. fct_touch_signals NULLs a column when any of them overlaps a gap (label columns become
  UNDEFINED instead, see gap_masked_value); columns not listed are identity, clock or level facts
  that no gap changes once the event itself stands (an event whose own level is computed over a gap
  is dropped: gap_level).
-#}

{% macro run_gaps() -%}
    (
        select table_name, session_date::date as session_date, start_ns, end_ns
        from (
            select unnest(
                from_json(coalesce(getvariable('bb_gaps'), '[]'),
                          '[{"table": "VARCHAR", "session_date": "VARCHAR", "start_ns": "BIGINT", "end_ns": "BIGINT"}]'),
                recursive := true)
        ) as g(table_name, session_date, start_ns, end_ns)
    )
{%- endmacro %}

{#- An aggregate over rows joined to the gaps (alias `g`, rows of run_gaps()): true when some gap of
    `table` overlaps [from_sql, to_sql), false when none does. -#}
{% macro gap_overlaps(table, from_sql, to_sql) -%}
    coalesce(bool_or(g.table_name = '{{ table }}' and g.start_ns < {{ to_sql }} and g.end_ns > {{ from_sql }}), false)
{%- endmacro %}

{% macro gap_families() -%}
    {{ return(['level', 'pm', 'or', 'rth', 'sma200', 'sma400', 'bars', 'tape', 'book', 'book_cluster',
               'options', 'rel_vol', 'labels']) }}
{%- endmacro %}

{% macro gap_dependent_columns() -%}
    {#- every touch of the day is an input of prior_touches, attempts and cluster trends -#}
    {%- set events = ['pm', 'or', 'rth', 'sma200', 'sma400', 'options'] -%}
    {%- set levels_at_t_dec = ['pm', 'or', 'rth', 'sma200', 'sma400', 'options'] -%}
    {%- set cols = {
        'distance_atr': ['bars'], 'distance_signed_atr': ['bars'], 'atr': ['bars'],
        'dist_to_pm_high': ['pm'], 'dist_to_pm_low': ['pm'], 'dist_to_pm_high_pct': ['pm'], 'dist_to_pm_low_pct': ['pm'],
        'dist_to_pm_high_atr': ['pm', 'bars'], 'dist_to_pm_low_atr': ['pm', 'bars'],
        'sma_spread': ['sma200', 'sma400'],
        'rel_vol_ratio': ['rel_vol'],
        'confluence_count': levels_at_t_dec, 'confluence_weighted_score': levels_at_t_dec,
        'confluence_min_distance': levels_at_t_dec, 'confluence_pressure': levels_at_t_dec,
        'confluence_min_distance_pct': levels_at_t_dec, 'confluence_min_distance_atr': levels_at_t_dec + ['bars'],
        'confluence_alignment': ['sma200', 'sma400'],
        'confluence_level': ['pm', 'or', 'sma200', 'sma400', 'rel_vol', 'options'],
        'gex_alignment': ['pm', 'or', 'options'],
        'breakout_state': ['pm', 'or'],
        'liquidity_pressure': ['book'], 'tape_pressure': ['tape'],
        'gamma_pressure': ['options'], 'gamma_pressure_accel': ['options'],
        'reversion_pressure': ['sma200', 'sma400', 'bars'],
        'net_break_pressure': ['book', 'tape', 'options', 'sma200', 'sma400', 'bars'],
        'approach_velocity': ['bars'], 'approach_bars': ['bars'], 'approach_distance': ['bars'],
        'approach_distance_atr': ['bars'], 'approach_distance_pct': ['bars'],
        'prior_touches': events, 'attempt_index': events, 'attempt_cluster_id': events,
        'barrier_replenishment_trend': events + ['book', 'book_cluster'],
        'barrier_delta_liq_trend': events + ['book', 'book_cluster'],
        'tape_velocity_trend': events + ['tape'], 'tape_imbalance_trend': events + ['tape'],
    } -%}
    {%- for n in ['200', '400'] -%}
        {%- for c in ['sma_' ~ n, 'dist_to_sma_' ~ n, 'dist_to_sma_' ~ n ~ '_pct', 'sma_' ~ n ~ '_slope',
                      'sma_' ~ n ~ '_slope_5bar', 'mean_reversion_velocity_' ~ n] -%}
            {%- do cols.update({c: ['sma' ~ n]}) -%}
        {%- endfor -%}
        {#- ATR normalisation and the close volatility read the recent 1-minute bars -#}
        {%- do cols.update({'dist_to_sma_' ~ n ~ '_atr': ['sma' ~ n, 'bars'],
                            'mean_reversion_pressure_' ~ n: ['sma' ~ n, 'bars']}) -%}
    {%- endfor -%}
    {%- for c in ['barrier_state', 'barrier_delta_liq', 'barrier_replenishment_ratio', 'depth_in_zone', 'wall_ratio',
                  'wall_ratio_nonzero', 'wall_ratio_log', 'barrier_delta_liq_nonzero', 'barrier_delta_liq_log'] -%}
        {%- do cols.update({c: ['book']}) -%}
    {%- endfor -%}
    {%- for c in ['tape_imbalance', 'tape_buy_vol', 'tape_sell_vol', 'tape_velocity', 'sweep_detected'] -%}
        {%- do cols.update({c: ['tape']}) -%}
    {%- endfor -%}
    {%- for c in ['fuel_effect', 'gamma_exposure', 'option_basis', 'gamma_bucket', 'gamma_flow_velocity',
                  'gamma_flow_impulse', 'gamma_flow_accel_1m', 'gamma_flow_accel_3m', 'dealer_pressure',
                  'dealer_pressure_accel'] -%}
        {%- do cols.update({c: ['options']}) -%}
    {%- endfor -%}
    {#- the label thresholds are multiples of the touch bar's ATR -#}
    {%- for thr in label_thresholds() -%}
        {%- do cols.update({'label_threshold_' ~ thr.k: ['bars']}) -%}
    {%- endfor -%}
    {%- for w in label_windows() -%}
        {%- for col, typ in label_value_columns() -%}
            {%- do cols.update({col ~ label_suffix(w): ['labels']}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for col, typ in label_value_columns() if col != 'future_price' -%}
        {%- do cols.update({col: ['labels']}) -%}
    {%- endfor -%}
    {%- do cols.update({'future_price_5min': ['labels']}) -%}
    {{ return(cols) }}
{%- endmacro %}

{#- The value a column takes when its window overlaps a gap: NULL for a feature; a label window over
    a gap is UNDEFINED (the outcome 'UNDEFINED', tradeable 0, the anchor time kept, values NULL), as
    when the window passes the last trade. -#}
{% macro gap_masked_value(column) -%}
    {%- if column.startswith('outcome') -%}'UNDEFINED'
    {%- elif column.startswith('tradeable_') -%}0
    {%- elif column.startswith('confirm_ts_ns') -%}{{ column }}
    {%- else -%}null
    {%- endif -%}
{%- endmacro %}

{#- `select * replace (...)` list over the alias `j` of the Gold rows and `g` of
    int_quality__event_gaps (joined on event_id; its flags are never NULL): every gap-dependent column
    masked when its families overlap a gap. Plain flags, no coalesce: ~130 expressions are planned on
    every run, gaps or not (~20 ms on a small day). -#}
{% macro gap_masked_columns(j='j', g='g') -%}
    {%- for col, families in gap_dependent_columns().items() %}
        case when {% for f in families %}{{ g }}.gap_{{ f }}{{ ' or ' if not loop.last }}{% endfor %}
            then {{ gap_masked_value(col) }} else {{ j }}.{{ col }} end as {{ col }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
