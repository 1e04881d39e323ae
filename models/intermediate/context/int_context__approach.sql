{{ config(materialized='ephemeral') }}
-- Approach context and time of day per touch event (SPEC §8; original_pipeline.md §8.3, with the
-- earlier bugs 12.2.5 / 12.2.8 fixed). Grain: one row per event of int_touches__detected. Uses the
-- run date's 1-minute bars that closed by t_dec and events decided before the event's T0.
--   look-back bars     the run date's 1-min bars with start in (T0 - {{ approach_lookback_minutes() }} min, T0]: up to
--                      {{ approach_lookback_minutes() }} bars, the touch bar last (minutes without trades have no bar)
--   approach_distance  direction_sign x (close of the touch bar - close of the first look-back bar),
--                      SPY $, signed: > 0 = price moved toward the level (up for UP, down for DOWN)
--   approach_velocity  approach_distance / minutes between the first and the touch bar's start, $ per
--                      minute; 0 with fewer than 2 look-back bars (approach_distance 0 too)
--   approach_bars      consecutive look-back bars, counting back from the touch bar, whose close moved
--                      strictly toward the level from the previous look-back bar's close
--   prior_touches      earlier events of the session (T0' < T0; any kind, either direction) whose
--                      level was within {{ prior_touch_band() }} $ of this one (inclusive, exact in 1e-9 ES points)
--   bars_since_open    whole minutes from the RTH open (09:30 ET) to T0
--   is_first_15m       T0 in [09:30, 09:45) ET (the opening range)
{%- set minute_ns = ns_per_minute() %}
{%- set lookback = approach_lookback_minutes() | int %}
{%- set band = spy_dollars_to_e9(prior_touch_band()) | int %}
{%- set tol = spy_dollars_to_e9(var('band_tolerance')) | int %}

with session as (
    select session_date, rth_open_ns, or_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

events as (
    select event_id, session_date, ts_ns, level_e9, direction_sign
    from {{ ref('int_touches__detected') }}
),

approaches as (
    -- the distinct (T0, direction) pairs: the approach depends on nothing else
    select distinct ts_ns, direction_sign from events
),

bars as (
    select bar_start_ns, close_e9
    from {{ ref('int_bars__es_1min') }}
    where session_date = {{ run_date() }}
),

lookback_bars as (
    -- equi-join on the {{ lookback }} minute starts of the look-back (no range join)
    select a.ts_ns, a.direction_sign, b.bar_start_ns, b.close_e9
    from approaches as a
    cross join range({{ lookback }}) as k (minutes_back)
    inner join bars as b
        on b.bar_start_ns = a.ts_ns - k.minutes_back * {{ minute_ns }}
),

moves as (
    -- does each look-back bar's close move strictly toward the level from the previous one's?
    select
        *,
        coalesce(direction_sign * (close_e9 - lag(close_e9) over by_bar) > 0, false) as toward
    from lookback_bars
    window by_bar as (partition by ts_ns, direction_sign order by bar_start_ns)
),

runs as (
    -- the latest look-back bar that did not move toward the level (the first bar never does)
    select
        *,
        max(case when not toward then bar_start_ns end) over (partition by ts_ns, direction_sign) as last_stop_ns
    from moves
),

approach as (
    select
        ts_ns,
        direction_sign,
        count(*) as n_bars,
        min(bar_start_ns) as first_start_ns,
        arg_min(close_e9, bar_start_ns) as first_close_e9,
        arg_max(close_e9, bar_start_ns) as last_close_e9,
        count(*) filter (where bar_start_ns > last_stop_ns) as approach_bars
    from runs
    group by ts_ns, direction_sign
),

approach_features as (
    select
        ts_ns,
        direction_sign,
        case when n_bars >= 2
            then {{ spy_from_e9('direction_sign * (last_close_e9 - first_close_e9)') }}
            else 0.0
        end as approach_distance,
        case when n_bars >= 2
            then {{ spy_from_e9('direction_sign * (last_close_e9 - first_close_e9)') }}
                / ((ts_ns - first_start_ns) / {{ minute_ns }})
            else 0.0
        end as approach_velocity,
        approach_bars::integer as approach_bars
    from approach
),

prior as (
    -- earlier events within the band of the level (any kind, any direction)
    select
        e.event_id,
        count(p.event_id)::integer as prior_touches
    from events as e
    left join events as p
        on p.ts_ns < e.ts_ns
        and p.level_e9 between e.level_e9 - {{ band + tol }} and e.level_e9 + {{ band + tol }}
    group by e.event_id
)

select
    e.event_id,
    e.session_date,
    e.ts_ns + {{ minute_ns }} as available_ts_ns,
    a.approach_velocity,
    a.approach_bars,
    a.approach_distance,
    p.prior_touches,
    ((e.ts_ns - s.rth_open_ns) // {{ minute_ns }})::integer as bars_since_open,
    e.ts_ns >= s.rth_open_ns and e.ts_ns < s.or_close_ns as is_first_15m
from events as e
cross join session as s
inner join approach_features as a using (ts_ns, direction_sign)
inner join prior as p using (event_id)
order by e.ts_ns, e.event_id
