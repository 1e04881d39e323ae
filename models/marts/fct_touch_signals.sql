-- Gold: one row per touch of a key level on the run date (SPEC §9), ordered by (ts_ns, level_kind).
-- Features use only Bronze with ts < available_ts_ns (= t_dec = T0 + 60 s); label columns look
-- forward from their anchors. The column set and types are fixed by the enforced contract in
-- _marts__models.yml. The file itself is written by gold_touch_signals (after this model's tests).
{{ config(contract={'enforced': true}) }}

with events as (
    -- touch events with their level, direction and bar context
    select * from {{ ref('int_touches__detected') }}
),

relative_volume as (
    -- rel_vol_ratio at t_dec
    select event_id, session_date, rel_vol_ratio from {{ ref('int_touches__relative_volume') }}
),

tape as (
    -- ES tape in [T0, t_dec): volumes near the level, imbalance, OLS velocity, sweeps
    select * from {{ ref('int_physics__tape') }}
),

barrier as (
    -- MBP-10 zone depth dynamics in [t_dec - 240 s, t_dec) (NULL when the date has no MBP-10)
    select * from {{ ref('int_physics__barrier') }}
),

fuel as (
    -- dealer gamma from 0DTE option prints before t_dec (NULL when no print precedes t_dec)
    select * from {{ ref('int_physics__fuel') }}
),

context as (
    -- context, mean reversion, confluence, pressures, approach, transforms, attempts at t_dec
    select * exclude (close_volatility, gamma_n_contracts) from {{ ref('int_context__features') }}
),

labels as (
    -- every label column, per window and the un-suffixed primary copy
    select * from {{ ref('int_labels__by_event') }}
),

joined as (
    -- refuses rows of another session: a subset run reading stale upstream tables fails loudly
    select
        e.*,
        r.rel_vol_ratio,
        t.* exclude (event_id, session_date),
        b.* exclude (event_id, session_date),
        f.* exclude (event_id, session_date, available_ts_ns),
        c.* exclude (event_id, session_date, available_ts_ns),
        l.* exclude (event_id, session_date),
        case
            when e.session_date = {{ run_date() }}
                and r.session_date = e.session_date
                and l.session_date = e.session_date
                and c.session_date = e.session_date
                then true
            else error('breakbounce: fct_touch_signals read an upstream row of session '
                || coalesce(e.session_date::varchar, '?') || ' in the run for ' || {{ run_date() }}::varchar
                || '; rebuild the upstream models for this date')
        end as is_run_date
    from events as e
    left join relative_volume as r using (event_id)
    left join tape as t using (event_id)
    left join barrier as b using (event_id)
    left join fuel as f using (event_id)
    left join context as c using (event_id)
    left join labels as l using (event_id)
),

gap_masked as (
    -- input gaps (`--allow-gaps`, SPEC §12): events whose own level was computed over a gap are
    -- dropped; every column whose window overlaps one is NULL (labels: UNDEFINED). Nothing changes
    -- without gaps. The columns and their windows: macros/quality/gaps.sql
    select j.* replace ({{ gap_masked_columns('j', 'g') }}
    )
    from joined as j
    inner join {{ ref('int_quality__event_gaps') }} as g using (event_id)  -- one row per touch
    where not g.gap_level
)

select
    event_id,
    ts_ns,
    available_ts_ns,
    session_date,
    strftime(session_date, '%Y-%m-%d') as date,
    'SPY' as symbol,
    level_price,
    level_kind::bigint as level_kind,
    level_kind_name,
    direction,
    direction_sign::bigint as direction_sign,
    distance,
    spot,
    atr,
    rel_vol_ratio,
    barrier_state::varchar as barrier_state,
    barrier_delta_liq::double as barrier_delta_liq,
    barrier_replenishment_ratio::double as barrier_replenishment_ratio,
    depth_in_zone::bigint as depth_in_zone,
    wall_ratio::double as wall_ratio,
    tape_imbalance::double as tape_imbalance,
    tape_buy_vol::bigint as tape_buy_vol,
    tape_sell_vol::bigint as tape_sell_vol,
    tape_velocity::double as tape_velocity,
    sweep_detected::boolean as sweep_detected,
    fuel_effect::varchar as fuel_effect,
    gamma_exposure::double as gamma_exposure,
    option_basis::double as option_basis,
    gamma_flow_velocity::double as gamma_flow_velocity,
    gamma_flow_impulse::double as gamma_flow_impulse,
    gamma_flow_accel_1m::double as gamma_flow_accel_1m,
    gamma_flow_accel_3m::double as gamma_flow_accel_3m,
    dealer_pressure::double as dealer_pressure,
    dealer_pressure_accel::double as dealer_pressure_accel,
    is_first_15m::boolean as is_first_15m,
    dist_to_pm_high::double as dist_to_pm_high,
    dist_to_pm_low::double as dist_to_pm_low,
    sma_200::double as sma_200,
    sma_400::double as sma_400,
    dist_to_sma_200::double as dist_to_sma_200,
    dist_to_sma_400::double as dist_to_sma_400,
    sma_200_slope::double as sma_200_slope,
    sma_400_slope::double as sma_400_slope,
    sma_200_slope_5bar::double as sma_200_slope_5bar,
    sma_400_slope_5bar::double as sma_400_slope_5bar,
    sma_spread::double as sma_spread,
    mean_reversion_pressure_200::double as mean_reversion_pressure_200,
    mean_reversion_pressure_400::double as mean_reversion_pressure_400,
    mean_reversion_velocity_200::double as mean_reversion_velocity_200,
    mean_reversion_velocity_400::double as mean_reversion_velocity_400,
    confluence_count::integer as confluence_count,
    confluence_weighted_score::double as confluence_weighted_score,
    confluence_min_distance::double as confluence_min_distance,
    confluence_pressure::double as confluence_pressure,
    confluence_alignment::tinyint as confluence_alignment,
    liquidity_pressure::double as liquidity_pressure,
    tape_pressure::double as tape_pressure,
    gamma_pressure::double as gamma_pressure,
    gamma_pressure_accel::double as gamma_pressure_accel,
    reversion_pressure::double as reversion_pressure,
    net_break_pressure::double as net_break_pressure,
    gamma_bucket::varchar as gamma_bucket,
    approach_velocity::double as approach_velocity,
    approach_bars::integer as approach_bars,
    approach_distance::double as approach_distance,
    prior_touches::integer as prior_touches,
    bars_since_open::integer as bars_since_open,
    wall_ratio_nonzero::tinyint as wall_ratio_nonzero,
    wall_ratio_log::double as wall_ratio_log,
    barrier_delta_liq_nonzero::tinyint as barrier_delta_liq_nonzero,
    barrier_delta_liq_log::double as barrier_delta_liq_log,
    distance_signed::double as distance_signed,
    distance_atr::double as distance_atr,
    distance_pct::double as distance_pct,
    distance_signed_atr::double as distance_signed_atr,
    distance_signed_pct::double as distance_signed_pct,
    dist_to_pm_high_atr::double as dist_to_pm_high_atr,
    dist_to_pm_high_pct::double as dist_to_pm_high_pct,
    dist_to_pm_low_atr::double as dist_to_pm_low_atr,
    dist_to_pm_low_pct::double as dist_to_pm_low_pct,
    dist_to_sma_200_atr::double as dist_to_sma_200_atr,
    dist_to_sma_200_pct::double as dist_to_sma_200_pct,
    dist_to_sma_400_atr::double as dist_to_sma_400_atr,
    dist_to_sma_400_pct::double as dist_to_sma_400_pct,
    confluence_min_distance_atr::double as confluence_min_distance_atr,
    confluence_min_distance_pct::double as confluence_min_distance_pct,
    approach_distance_atr::double as approach_distance_atr,
    approach_distance_pct::double as approach_distance_pct,
    level_price_pct::double as level_price_pct,
    attempt_index::bigint as attempt_index,
    attempt_cluster_id::bigint as attempt_cluster_id,
    barrier_replenishment_trend::double as barrier_replenishment_trend,
    barrier_delta_liq_trend::double as barrier_delta_liq_trend,
    tape_velocity_trend::double as tape_velocity_trend,
    tape_imbalance_trend::double as tape_imbalance_trend,
    confluence_level::tinyint as confluence_level,
    gex_alignment::tinyint as gex_alignment,
    breakout_state::tinyint as breakout_state,
    {%- for thr in label_thresholds() %}
    label_threshold_{{ thr.k }}::double as label_threshold_{{ thr.k }},
    {%- endfor %}
    {%- for w in label_windows() %}
    {%- for col, typ in label_value_columns() %}
    {{ col }}{{ label_suffix(w) }}::{{ typ }} as {{ col }}{{ label_suffix(w) }},
    {%- endfor %}
    {%- endfor %}
    {%- for col, typ in label_value_columns() if col != 'future_price' %}
    {{ col }}::{{ typ }} as {{ col }},
    {%- endfor %}
    future_price_5min::double as future_price_5min
from gap_masked
where is_run_date
order by ts_ns, level_kind
