-- Every context / confluence / transform column of Gold per touch event (SPEC §8), in one row per
-- event of int_touches__detected: the columns of int_context__mean_reversion, int_context__approach
-- and int_context__attempts (ephemeral), int_confluence__features, plus the transforms
-- below (original_pipeline.md §8.4, §8.6). Everything uses data with ts < t_dec = available_ts_ns.
--   distance_signed      L - spot (SPY $; exact in 1e-9 ES points)
--   dist_to_pm_high/low  L - PM high / low as known at t_dec (NULL without a pre-market trade)
--   X_atr, X_pct         X / (atr + 1e-6), X / (spot + 1e-6) for distance, distance_signed,
--                        dist_to_pm_high/low, dist_to_sma_200/400, confluence_min_distance,
--                        approach_distance;  level_price_pct = (L - spot) / (spot + 1e-6)
--   X_nonzero, X_log     int8(X <> 0), sign(X) ln(1 + |X|) for wall_ratio and barrier_delta_liq
--                        (NULL when X is NULL: no MBP-10 for the date)
--   liquidity_pressure   clip((tanh(-barrier_delta_liq / {{ barrier_delta_liq_norm() }}) + clip(1 - wall_ratio / {{ wall_ratio_norm() }})) / 2); NULL without MBP-10
--   tape_pressure        clip(dir x (tape_imbalance + clip(tape_velocity / {{ tape_velocity_norm() }})) / 2), tape_velocity in SPY $/s
--   gamma_pressure       tanh(-gamma_exposure / {{ gamma_exposure_norm() }}); NULL without option flow before t_dec
--   gamma_pressure_accel tanh(-gamma_flow_accel_3m / {{ gamma_flow_accel_norm() }}); NULL likewise
--   reversion_pressure   tanh(-dir x m), m = mean of the defined mean_reversion_pressure_200/400, 0 if none
--   net_break_pressure   clip((liquidity + tape + gamma + reversion + confluence_pressure) / 5), a missing
--                        component counting 0 (as before)
--   gamma_bucket         'SHORT_GAMMA' gamma_exposure < 0, 'LONG_GAMMA' >= 0, 'UNKNOWN' when no option
--                        contract in range of the level (mapped strike within ±{{ fuel_strike_range() }} $) has an
--                        open dealer position at t_dec (gamma_exposure is then 0 or NULL)
-- dir = direction_sign (+1 UP, -1 DOWN); clip(x) = min(max(x, -1), 1).


with events as (
    select
        event_id,
        session_date,
        ts_ns,
        available_ts_ns,
        level_kind,
        level_price,
        level_e9,
        direction_sign,
        distance,
        spot,
        spot_e9,
        atr
    from {{ ref('int_touches__detected') }}
),

pm as (
    -- the PM range as known at t_dec, per event
    select e.event_id, l.pm_high_e9, l.pm_low_e9
    from events as e
    left join {{ ref('int_levels__as_of_minute') }} as l
        on l.session_date = e.session_date and l.asof_ns = e.available_ts_ns
),

gamma_in_range as (
    -- contracts in range of the level with an open dealer position at t_dec (as int_physics__fuel)
    select e.event_id, count(*) as n_contracts
    from events as e
    inner join {{ ref('int_options__dealer_gamma') }} as g
        on g.asof_ns = e.available_ts_ns
        and abs(g.mapped_strike - e.level_price) <= {{ fuel_strike_range() }} + {{ fuel_tolerance() }}
    group by e.event_id
),

joined as (
    select
        e.*,
        {{ spy_from_e9('e.level_e9 - e.spot_e9') }} as distance_signed,
        {{ spy_from_e9('e.level_e9 - pm.pm_high_e9') }} as dist_to_pm_high,
        {{ spy_from_e9('e.level_e9 - pm.pm_low_e9') }} as dist_to_pm_low,
        mr.* exclude (event_id, session_date, available_ts_ns),
        ap.* exclude (event_id, session_date, available_ts_ns),
        att.* exclude (event_id, session_date, available_ts_ns),
        cf.confluence_count,
        cf.confluence_weighted_score,
        cf.confluence_min_distance,
        cf.confluence_pressure,
        cf.confluence_alignment,
        cf.breakout_state,
        cf.gex_alignment,
        cf.confluence_level,
        b.barrier_delta_liq,
        b.wall_ratio,
        t.tape_imbalance,
        t.tape_velocity,
        f.gamma_exposure,
        f.gamma_flow_accel_3m,
        coalesce(g.n_contracts, 0) as gamma_n_contracts
    from events as e
    left join pm using (event_id)
    left join {{ ref('int_context__mean_reversion') }} as mr using (event_id)
    left join {{ ref('int_context__approach') }} as ap using (event_id)
    left join {{ ref('int_context__attempts') }} as att using (event_id)
    left join {{ ref('int_confluence__features') }} as cf using (event_id)
    left join {{ ref('int_physics__barrier') }} as b using (event_id)
    left join {{ ref('int_physics__tape') }} as t using (event_id)
    left join {{ ref('int_physics__fuel') }} as f using (event_id)
    left join gamma_in_range as g using (event_id)
),

pressures as (
    select
        *,
        {{ clip('(tanh(-barrier_delta_liq / ' ~ barrier_delta_liq_norm() ~ ') + ' ~ clip('1 - wall_ratio / ' ~ wall_ratio_norm()) ~ ') / 2') }}
            as liquidity_pressure,
        {{ clip('direction_sign * (tape_imbalance + ' ~ clip('tape_velocity / ' ~ tape_velocity_norm()) ~ ') / 2') }}
            as tape_pressure,
        tanh(-gamma_exposure / {{ gamma_exposure_norm() }}) as gamma_pressure,
        tanh(-gamma_flow_accel_3m / {{ gamma_flow_accel_norm() }}) as gamma_pressure_accel,
        tanh(-direction_sign * coalesce(
            (mean_reversion_pressure_200 + mean_reversion_pressure_400) / 2,
            mean_reversion_pressure_200,
            mean_reversion_pressure_400,
            0
        )) as reversion_pressure
    from joined
)

select
    event_id,
    session_date,
    available_ts_ns,
    -- context
    is_first_15m,
    dist_to_pm_high,
    dist_to_pm_low,
    -- mean reversion
    sma_200,
    sma_400,
    dist_to_sma_200,
    dist_to_sma_400,
    sma_200_slope,
    sma_400_slope,
    sma_200_slope_5bar,
    sma_400_slope_5bar,
    sma_spread,
    mean_reversion_pressure_200,
    mean_reversion_pressure_400,
    mean_reversion_velocity_200,
    mean_reversion_velocity_400,
    -- dynamic confluence
    confluence_count,
    confluence_weighted_score,
    confluence_min_distance,
    confluence_pressure,
    confluence_alignment,
    -- pressure indicators
    liquidity_pressure,
    tape_pressure,
    gamma_pressure,
    gamma_pressure_accel,
    reversion_pressure,
    {{ clip('(coalesce(liquidity_pressure, 0) + coalesce(tape_pressure, 0) + coalesce(gamma_pressure, 0)'
            ~ ' + coalesce(reversion_pressure, 0) + coalesce(confluence_pressure, 0)) / 5') }} as net_break_pressure,
    case
        when gamma_n_contracts = 0 or gamma_exposure is null then 'UNKNOWN'
        when gamma_exposure < 0 then 'SHORT_GAMMA'
        else 'LONG_GAMMA'
    end as gamma_bucket,
    -- approach
    approach_velocity,
    approach_bars,
    approach_distance,
    prior_touches,
    bars_since_open,
    -- sparse transforms
    (wall_ratio <> 0)::tinyint as wall_ratio_nonzero,
    {{ signed_log1p('wall_ratio') }} as wall_ratio_log,
    (barrier_delta_liq <> 0)::tinyint as barrier_delta_liq_nonzero,
    {{ signed_log1p('barrier_delta_liq') }} as barrier_delta_liq_log,
    -- normalised distances
    distance_signed,
    {%- for x in ['distance', 'distance_signed', 'dist_to_pm_high', 'dist_to_pm_low', 'dist_to_sma_200',
                  'dist_to_sma_400', 'confluence_min_distance', 'approach_distance'] %}
    {{ x }} / (atr + {{ feature_eps() }}) as {{ x }}_atr,
    {{ x }} / (spot + {{ feature_eps() }}) as {{ x }}_pct,
    {%- endfor %}
    distance_signed / (spot + {{ feature_eps() }}) as level_price_pct,
    -- attempts
    attempt_index,
    attempt_cluster_id,
    barrier_replenishment_trend,
    barrier_delta_liq_trend,
    tape_velocity_trend,
    tape_imbalance_trend,
    -- hierarchical confluence
    confluence_level,
    gex_alignment,
    breakout_state,
    -- inputs kept for inspection (not Gold columns)
    close_volatility,
    gamma_n_contracts
from pressures
order by ts_ns, level_kind
