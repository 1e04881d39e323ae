-- Point in time, checked from the data: a level used at T0 never reflects a trade at or after T0.
-- SESSION_HIGH / LOW at a bar equal the extremes of the RTH bars strictly before it; PM levels equal
-- the pre-market extremes; OR levels appear only from 09:45. Returns offending (bar, kind) rows.
with cal as (
    select * from {{ ref('trading_calendar') }} where session_date = {{ run_date() }}
),

bars as (
    select b.*, cal.pm_open_ns, cal.rth_open_ns
    from {{ ref('int_bars__es_1min') }} as b
    inner join cal using (session_date)
),

expected as (
    select
        l.bar_start_ns,
        l.level_kind,
        l.level_e9,
        case l.level_kind
            when 0 then (select max(high_e9) from bars where bar_start_ns >= pm_open_ns and bar_start_ns < rth_open_ns)
            when 1 then (select min(low_e9) from bars where bar_start_ns >= pm_open_ns and bar_start_ns < rth_open_ns)
            when 4 then (select max(high_e9) from bars where bar_start_ns >= rth_open_ns and bar_start_ns < l.bar_start_ns)
            when 5 then (select min(low_e9) from bars where bar_start_ns >= rth_open_ns and bar_start_ns < l.bar_start_ns)
        end as expected_e9,
        (select or_close_ns from cal) as or_close_ns
    from {{ ref('int_levels__by_bar') }} as l
)

select *
from expected
where (level_kind in (0, 1, 4, 5) and level_e9 is distinct from expected_e9)
    or (level_kind in (2, 3) and bar_start_ns < or_close_ns)
