-- CALL_WALL / PUT_WALL (level kinds 10 / 11, SPEC §7.3) as known at each minute mark of the run
-- date, SPY frame. One row per (session_date, asof_ns) on the same minute marks as
-- int_levels__as_of_minute (every minute of RTH, open and close included); values use only option
-- prints with ts < asof_ns (and ES trades with ts < asof_ns for spot and basis); NULL = no wall.
-- Wall of a right at t: among that right's contracts with a non-zero dealer position at t
-- (int_options__dealer_gamma) whose mapped strike K + option_basis_t lies within
-- ±{{ fuel_wall_range() }} $ of the SPY-frame spot_t, the mapped strike with the largest |dealer_gamma|;
-- ties: the strike nearest spot, then the lower strike. NULL before any print of that right, and
-- whenever no contract of that right qualifies (e.g. all flat, all out of range, or zero gamma at
-- the close).

with marks as (
    select session_date, asof_ns
    from {{ ref('int_options__basis_by_minute') }}
),

candidates as (
    select
        asof_ns,
        option_right,
        strike,
        mapped_strike,
        abs(dealer_gamma) as abs_gamma,
        abs(mapped_strike - spot) as distance_to_spot
    from {{ ref('int_options__dealer_gamma') }}
    where abs(mapped_strike - spot) <= {{ fuel_wall_range() }} + {{ fuel_tolerance() }}
        and dealer_gamma <> 0
),

walls as (
    select
        asof_ns,
        arg_max(mapped_strike, (abs_gamma, -distance_to_spot, -strike))
            filter (where option_right = 'C') as call_wall,
        arg_max(mapped_strike, (abs_gamma, -distance_to_spot, -strike))
            filter (where option_right = 'P') as put_wall
    from candidates
    group by asof_ns
)

select
    m.session_date,
    m.asof_ns,
    w.call_wall::double as call_wall,
    w.put_wall::double as put_wall
from marks as m
left join walls as w using (asof_ns)
order by m.asof_ns
