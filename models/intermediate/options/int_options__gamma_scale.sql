-- The causal scale of dealer gamma that fuel_effect compares gamma_exposure with (SPEC §7.3), at
-- every RTH minute mark t of the run date. Per mark m:
--   near_spot_gamma_e9   dealer gamma of the contracts whose mapped strike is within
--                        ±{{ fuel_strike_range() }} $ of the SPY-frame spot at m (prints with ts < m),
--                        in exact int64 units of 1e-9 share-gamma (see fuel_unit_gamma_e9)
-- and per mark t, over the counted marks m < t (the marks from the first one with an open dealer
-- position, so the minutes before any option flow do not count as zero gamma):
--   n_scale_marks        how many there are
--   scale_lo_e9 / _hi_e9 the lower / upper middle of their |near_spot_gamma_e9|: the median is
--                        (lo + hi) / 2, kept as two integers so fuel_effect compares it exactly
-- Point in time: everything at t uses marks m < t, each built from prints before m.

{%- set tol = fuel_tolerance() %}

with marks as (
    select session_date, asof_ns, spot
    from {{ ref('int_options__basis_by_minute') }}
),

near_spot as (
    -- exact dealer gamma of the contracts near the spot at each mark (0 when none is open there)
    select
        m.session_date,
        m.asof_ns,
        coalesce(sum(g.dealer_position::hugeint * {{ fuel_unit_gamma_e9('g') }}), 0) as near_spot_gamma_e9
    from marks as m
    left join {{ ref('int_options__dealer_gamma') }} as g
        on g.asof_ns = m.asof_ns
        and abs(g.mapped_strike - m.spot) <= {{ fuel_strike_range() }} + {{ tol }}
    group by m.session_date, m.asof_ns
),

first_flow as (
    -- the first mark with an open dealer position (the session's option flow has begun)
    select min(asof_ns) as first_flow_ns
    from {{ ref('int_options__dealer_gamma') }}
),

counted as (
    select n.asof_ns, abs(n.near_spot_gamma_e9) as abs_gamma_e9
    from near_spot as n
    cross join first_flow as f
    where n.asof_ns >= f.first_flow_ns
),

earlier as (
    -- per mark: the sorted |gamma| of the counted marks before it
    select
        t.asof_ns,
        count(*) as n_scale_marks,
        list_sort(list(c.abs_gamma_e9)) as sorted_e9
    from near_spot as t
    inner join counted as c
        on c.asof_ns < t.asof_ns
    group by t.asof_ns
)

select
    n.session_date,
    n.asof_ns,
    n.near_spot_gamma_e9::bigint as near_spot_gamma_e9,
    coalesce(e.n_scale_marks, 0)::bigint as n_scale_marks,
    e.sorted_e9[(e.n_scale_marks + 1) // 2]::bigint as scale_lo_e9,
    e.sorted_e9[e.n_scale_marks // 2 + 1]::bigint as scale_hi_e9
from near_spot as n
left join earlier as e using (asof_ns)
order by n.asof_ns
