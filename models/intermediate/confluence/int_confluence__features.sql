-- Confluence per touch event (SPEC §8; original_pipeline.md §7): the dynamic confluence columns
-- (int_confluence__dynamic, ephemeral) and the hierarchical confluence level (§7.3), correctly
-- aligned to its own event (bug 12.2.1 fixed) and causal. Grain: one row per event.
-- Inputs, all as known at the decision time t_dec = available_ts_ns:
--   spot            the touch-bar close (not the level price, bug 12.2.4)
--   pm_high/low     int_levels__as_of_minute at t_dec (complete from 09:30)
--   or_high/low     from 09:45 the OR of int_levels__as_of_minute at t_dec; before 09:45 the running
--                   OR = max / min RTH trade price in [09:30, t_dec) (= session_high / session_low at t_dec)
--   sma_200/400     int_context__mean_reversion (the SMAs at t_dec)
--   rel_vol_ratio   int_touches__relative_volume (at t_dec)
--   is_first_hour   T0 in [09:30, 09:30 + {{ first_hour_minutes() }} min)
--   call/put_wall   int_levels__option_walls at t_dec;  fuel_effect: int_physics__fuel (at t_dec)
-- Decision: macro confluence_decision (macros/features/confluence_level.sql), also exercised on
-- hand-built rows by tests/integration/test_confluence_level.py.
{%- set minute_ns = ns_per_minute() %}

with session as (
    select session_date, rth_open_ns, or_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

inputs as (
    select
        e.event_id,
        e.session_date,
        e.available_ts_ns,
        e.spot,
        l.pm_high,
        l.pm_low,
        case when e.available_ts_ns < s.or_close_ns then l.session_high else l.or_high end as or_high,
        case when e.available_ts_ns < s.or_close_ns then l.session_low else l.or_low end as or_low,
        m.sma_200,
        m.sma_400,
        r.rel_vol_ratio,
        e.ts_ns < s.rth_open_ns + {{ first_hour_minutes() }} * {{ minute_ns }} as is_first_hour,
        w.call_wall,
        w.put_wall,
        f.fuel_effect
    from {{ ref('int_touches__detected') }} as e
    cross join session as s
    left join {{ ref('int_levels__as_of_minute') }} as l
        on l.session_date = e.session_date and l.asof_ns = e.available_ts_ns
    left join {{ ref('int_levels__option_walls') }} as w
        on w.session_date = e.session_date and w.asof_ns = e.available_ts_ns
    left join {{ ref('int_context__mean_reversion') }} as m using (event_id)
    left join {{ ref('int_touches__relative_volume') }} as r using (event_id)
    left join {{ ref('int_physics__fuel') }} as f using (event_id)
)

select
    d.event_id,
    d.session_date,
    d.available_ts_ns,
    -- dynamic confluence
    c.confluence_count,
    c.confluence_weighted_score,
    c.confluence_min_distance,
    c.confluence_pressure,
    c.confluence_alignment,
    -- hierarchical level: inputs, flags, decision
    spot,
    pm_high,
    pm_low,
    or_high,
    or_low,
    sma_200,
    sma_400,
    rel_vol_ratio,
    is_first_hour,
    call_wall,
    put_wall,
    fuel_effect,
    cl_sma_close as is_sma_close,
    cl_vol_high as is_vol_high,
    breakout_state,
    gex_alignment,
    confluence_level
from {{ confluence_decision('inputs') }} as d
inner join {{ ref('int_confluence__dynamic') }} as c using (event_id)
order by d.available_ts_ns, d.event_id
