-- Key price levels of the run date as known at each minute mark of RTH (SPEC §5): the value at
-- `asof_ns` uses only front-month trades with ts_event_ns < asof_ns (and 2-min bars that closed at
-- or before asof_ns). The marks are every minute from the RTH open to the close, both included, so
-- a touch bar's T0 and its decision time t_dec = T0 + 60 s are both rows.
-- Everything is summed in exact integers (1e-9 ES points), so values do not depend on the order
-- DuckDB adds things up; SPY-frame columns are the e9 values / 1e9 / es_spy_ratio.

with session as (
    -- the run date's calendar row (clock times resolved to UTC ns, DST included)
    select session_date, pm_open_ns, rth_open_ns, or_close_ns, rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

minute_marks as (
    -- every minute mark of RTH, open and close included
    select
        session_date,
        unnest(range(rth_open_ns, rth_close_ns + {{ ns_per_minute() }}, {{ ns_per_minute() }})) as asof_ns
    from session
),

minute_bars as (
    -- the run date's 1-minute bars (front month), with the session clock
    select b.bar_start_ns, b.high_e9, b.low_e9, s.pm_open_ns, s.rth_open_ns, s.or_close_ns, s.rth_close_ns
    from {{ ref('int_bars__es_1min') }} as b
    inner join session as s using (session_date)
),

premarket as (
    -- PM extremes: trades in [04:00, 09:30) ET; complete (so defined) from 09:30 on
    select max(high_e9) as pm_high_e9, min(low_e9) as pm_low_e9
    from minute_bars
    where bar_start_ns >= pm_open_ns and bar_start_ns < rth_open_ns
),

opening_range as (
    -- OR extremes: trades in [09:30, 09:45) ET; defined from 09:45 on
    select max(high_e9) as or_high_e9, min(low_e9) as or_low_e9
    from minute_bars
    where bar_start_ns >= rth_open_ns and bar_start_ns < or_close_ns
),

rth_minute_flow as (
    -- per RTH minute: exact sum of price_e9 * size (HUGEINT) and of size, for the VWAP
    select
        (t.ts_event_ns // {{ ns_per_minute() }}) * {{ ns_per_minute() }} as bar_start_ns,
        sum(t.price_e9::hugeint * t.size) as price_volume_e9,
        sum(t.size) as volume
    from {{ ref('stg_bronze__es_trades') }} as t
    inner join session as s using (session_date)
    where t.is_front_month
        and t.ts_event_ns >= s.rth_open_ns
        and t.ts_event_ns < s.rth_close_ns
    group by all
),

marks_with_minute as (
    -- each mark with the RTH minute that starts at it (NULLs where that minute had no trades)
    select
        m.session_date,
        m.asof_ns,
        b.high_e9,
        b.low_e9,
        f.price_volume_e9,
        f.volume
    from minute_marks as m
    left join minute_bars as b
        on b.bar_start_ns = m.asof_ns and b.bar_start_ns < b.rth_close_ns
    left join rth_minute_flow as f
        on f.bar_start_ns = m.asof_ns
),

running as (
    -- RTH so far: everything in the minutes strictly before the mark (i.e. trades with ts < asof_ns)
    select
        session_date,
        asof_ns,
        max(high_e9) over before_mark as session_high_e9,
        min(low_e9) over before_mark as session_low_e9,
        sum(price_volume_e9) over before_mark as rth_price_volume_e9,
        sum(volume) over before_mark as rth_volume
    from marks_with_minute
    window before_mark as (order by asof_ns rows between unbounded preceding and 1 preceding)
),

sma_series as (
    -- SMA_200 / SMA_400 after each 2-min bar closes (1e-9 ES points), NULL while too few bars
    select * from {{ ref('int_levels__sma_by_close') }}
),

levels_e9 as (
    -- every level at every mark (exact 1e-9 ES points; VWAP and SMAs are exact ratios as doubles)
    select
        r.session_date,
        r.asof_ns,
        p.pm_high_e9,
        p.pm_low_e9,
        case when r.asof_ns >= s.or_close_ns then o.or_high_e9 end as or_high_e9,
        case when r.asof_ns >= s.or_close_ns then o.or_low_e9 end as or_low_e9,
        r.session_high_e9,
        r.session_low_e9,
        case when r.rth_volume > 0 then r.rth_price_volume_e9 / r.rth_volume end as vwap_e9,
        m.sma_200_e9,
        m.sma_400_e9,
        coalesce(r.rth_volume, 0)::bigint as rth_volume
    from running as r
    cross join session as s
    cross join premarket as p
    cross join opening_range as o
    asof left join sma_series as m
        on r.asof_ns >= m.closed_ns
)

select
    session_date,
    asof_ns,
    {%- for k in level_kinds() %}
    {{ e9_to_spy(k.column) }} as {{ k.column[:-3] }},
    {%- endfor %}
    {%- for k in level_kinds() %}
    {{ k.column }},
    {%- endfor %}
    rth_volume
from levels_e9
order by asof_ns
