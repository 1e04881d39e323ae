{{ config(materialized='ephemeral') }}
-- Mean-reversion context per touch event (SPEC §8; original_pipeline.md §8.2), evaluated at the
-- decision time t_dec = available_ts_ns from data with ts < t_dec. Grain: one row per event.
--   SMA_N(t)      mean close of the last N 2-min bars (run date and its SMA warmup sessions, in time
--                 order) that closed at or before t (bar start + 120 s <= t): the same series and
--                 arithmetic as int_levels__as_of_minute (exact integer sums of 1e-9 ES points)
--   sma_N         SMA_N(t_dec);   dist_to_sma_N = L - sma_N
--   sma_N_slope        (SMA_N(t_dec) - SMA_N(t_dec - {{ sma_slope_minutes() }} min)) / {{ sma_slope_minutes() }}, $ per minute
--   sma_N_slope_5bar   (SMA_N(t_dec) - SMA_N(t_dec - {{ sma_slope_short_minutes() }} min)) / {{ sma_slope_short_minutes() }}, $ per minute
--   mean_reversion_velocity_N = (dist_to_sma_N(t_dec) - (L - SMA_N(t_dec - {{ mean_reversion_velocity_minutes() }} min))) / {{ mean_reversion_velocity_minutes() }}
--   close_volatility   sample std (ddof 1) of the last {{ mean_reversion_vol_bars() }} one-minute close changes of the run date's
--                      Globex day through the touch bar (the bar closing at t_dec), SPY $; NULL with fewer changes
--   mean_reversion_pressure_N = dist_to_sma_N / (close_volatility + 1e-6); NULL unless volatility > 0
-- Time offsets (not bar offsets) make the slopes correct across gaps and the maintenance hour.
-- Exact: SMA sums and the volatility's sums of changes and squared changes are HUGEINT; each value
-- is one division of exact integers, so results are identical across runs and thread counts.
{%- set minute_ns = ns_per_minute() %}
{%- set offsets = ([0, sma_slope_minutes() | int, sma_slope_short_minutes() | int, mean_reversion_velocity_minutes() | int] | unique | sort) %}
{%- set n_vol = mean_reversion_vol_bars() | int %}

with events as (
    select event_id, session_date, ts_ns, available_ts_ns as t_dec, level_price, level_e9
    from {{ ref('int_touches__detected') }}
),

sma_series as (
    -- SMA_200 / SMA_400 after each 2-min bar closes (1e-9 ES points), NULL while too few bars
    select * from {{ ref('int_levels__sma_by_close') }}
),

lookup_points as (
    -- each event at t_dec and at t_dec - offset for every offset the slopes need (minutes)
    select e.event_id, o.offset_min, e.t_dec - o.offset_min * {{ minute_ns }} as at_ns
    from events as e
    cross join (values {% for o in offsets %}({{ o }}){{ ", " if not loop.last }}{% endfor %}) as o (offset_min)
),

sma_lookups as (
    -- the SMAs as known at each point: the last 2-min bar closed at or before it
    select p.event_id, p.offset_min, s.sma_200_e9, s.sma_400_e9
    from lookup_points as p
    asof left join sma_series as s
        on p.at_ns >= s.closed_ns
),

sma_at as (
    select
        event_id
        {%- for o in offsets %}
        {%- for n in (200, 400) %},
        max(sma_{{ n }}_e9) filter (where offset_min = {{ o }}) as sma_{{ n }}_e9_{{ o }}
        {%- endfor %}
        {%- endfor %}
    from sma_lookups
    group by event_id
),

minute_changes as (
    -- one-minute close changes of the run date's Globex day (1e-9 ES points); the first bar has none
    select
        bar_start_ns,
        close_e9 - lag(close_e9) over (order by bar_start_ns) as change_e9
    from {{ ref('int_bars__es_1min') }}
    where session_date = {{ run_date() }}
),

minute_vol_sums as (
    -- exact sums over the last {{ n_vol }} changes through each bar
    select
        bar_start_ns,
        count(change_e9) over last_changes as n,
        sum(change_e9::hugeint) over last_changes as s1,
        sum(change_e9::hugeint * change_e9::hugeint) over last_changes as s2
    from minute_changes
    window last_changes as (order by bar_start_ns rows between {{ n_vol - 1 }} preceding and current row)
),

touch_bar_vol as (
    -- sample std of the changes (SPY $) at each touch bar; NULL unless {{ n_vol }} changes exist
    select
        e.event_id,
        case when v.n = {{ n_vol }}
            then {{ spy_from_e9('sqrt(((v.n * v.s2 - v.s1 * v.s1)::double) / (v.n * (v.n - 1)))') }}
        end as close_volatility
    from events as e
    inner join minute_vol_sums as v
        on v.bar_start_ns = e.ts_ns
),

assembled as (
    select
        e.event_id,
        e.session_date,
        e.t_dec as available_ts_ns,
        e.level_e9,
        s.* exclude (event_id),
        v.close_volatility
    from events as e
    left join sma_at as s using (event_id)
    left join touch_bar_vol as v using (event_id)
),

features as (
    select
        event_id,
        session_date,
        available_ts_ns,
        {%- for n in (200, 400) %}
        {{ spy_from_e9('sma_' ~ n ~ '_e9_0') }} as sma_{{ n }},
        {{ spy_from_e9('level_e9 - sma_' ~ n ~ '_e9_0') }} as dist_to_sma_{{ n }},
        {{ spy_from_e9('sma_' ~ n ~ '_e9_0 - sma_' ~ n ~ '_e9_' ~ sma_slope_minutes()) }} / {{ sma_slope_minutes() }}
            as sma_{{ n }}_slope,
        {{ spy_from_e9('sma_' ~ n ~ '_e9_0 - sma_' ~ n ~ '_e9_' ~ sma_slope_short_minutes()) }} / {{ sma_slope_short_minutes() }}
            as sma_{{ n }}_slope_5bar,
        {{ spy_from_e9('sma_' ~ n ~ '_e9_' ~ mean_reversion_velocity_minutes() ~ ' - sma_' ~ n ~ '_e9_0') }}
            / {{ mean_reversion_velocity_minutes() }} as mean_reversion_velocity_{{ n }},
        {%- endfor %}
        {{ spy_from_e9('sma_200_e9_0 - sma_400_e9_0') }} as sma_spread,
        close_volatility
    from assembled
)

select
    event_id,
    session_date,
    available_ts_ns,
    sma_200,
    sma_400,
    dist_to_sma_200,
    dist_to_sma_400,
    sma_200_slope,
    sma_400_slope,
    sma_200_slope_5bar,
    sma_400_slope_5bar,
    sma_spread,
    close_volatility,
    case when close_volatility > 0 then dist_to_sma_200 / (close_volatility + {{ feature_eps() }}) end
        as mean_reversion_pressure_200,
    case when close_volatility > 0 then dist_to_sma_400 / (close_volatility + {{ feature_eps() }}) end
        as mean_reversion_pressure_400,
    mean_reversion_velocity_200,
    mean_reversion_velocity_400
from features
order by available_ts_ns, event_id
