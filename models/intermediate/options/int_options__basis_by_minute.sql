-- Per RTH minute mark t of the run date (09:30 to the close, both included: the marks of
-- int_levels__as_of_minute): the SPY-frame spot, time to the close and the option strike basis as
-- known at t (SPEC §7.3), from records with ts < t only.
--   spot          last front-month ES trade with ts < t, / es_spy_ratio
--   window        parity pairs (int_options__parity_pairs) whose later print is in
--                 [t - {{ fuel_basis_window_minutes() }} min, t), so both prints are before t
--   ATM reference median, over the window's minutes, of each minute's median implied_spot
--   basis strikes the {{ fuel_basis_strikes() }} strikes with pairs in the window nearest the ATM reference (ties: lower)
--   estimate      median of pair_basis over all the window's pairs at the basis strikes
--   option_basis  the estimate at t, else the latest earlier estimate, else 0 (not yet estimable)
-- Real SPY spot = spot - option_basis; a real strike K maps to the SPY frame as K + option_basis.

{%- set window = fuel_basis_window_minutes() | int %}

with session as (
    select session_date, rth_open_ns, rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

marks as (
    select
        session_date,
        rth_close_ns,
        unnest(range(rth_open_ns, rth_close_ns + {{ ns_per_minute() }}, {{ ns_per_minute() }})) as asof_ns
    from session
),

es_last_per_ts as (
    -- front-month ES of the run date: the last print (print_order_key) at each timestamp
    select * from {{ fuel_es_last_per_ts() }}
),

pairs as materialized (
    -- the parity pairs (a view), computed once here
    select pair_minute_ns, strike, implied_spot, pair_basis
    from {{ ref('int_options__parity_pairs') }}
),

look_back as (
    -- mark = pair minute + k minutes, k = 1..{{ window }}: the marks whose window holds that minute
    select range * {{ ns_per_minute() }} as offset_ns
    from range(1, {{ window + 1 }})
),

minute_implied as (
    select pair_minute_ns, quantile_cont(implied_spot, 0.5) as minute_implied_spot
    from pairs
    group by pair_minute_ns
),

atm_reference as (
    select m.pair_minute_ns + o.offset_ns as asof_ns, quantile_cont(m.minute_implied_spot, 0.5) as atm_reference
    from minute_implied as m
    cross join look_back as o
    group by all
),

window_strikes as (
    select distinct p.pair_minute_ns + o.offset_ns as asof_ns, p.strike
    from (select distinct pair_minute_ns, strike from pairs) as p
    cross join look_back as o
),

basis_strikes as (
    select w.asof_ns, w.strike
    from window_strikes as w
    inner join atm_reference as a using (asof_ns)
    qualify row_number() over (
        partition by w.asof_ns order by abs(w.strike - a.atm_reference), w.strike
    ) <= {{ fuel_basis_strikes() }}
),

basis_cells as (
    -- (mark, basis strike, pair minute) for every minute of the mark's window
    select b.asof_ns, b.strike, b.asof_ns - o.offset_ns as pair_minute_ns
    from basis_strikes as b
    cross join look_back as o
),

estimates as (
    select
        c.asof_ns,
        quantile_cont(p.pair_basis, 0.5) as basis_estimate,
        count(*) as n_pairs
    from basis_cells as c
    inner join pairs as p
        on p.strike = c.strike and p.pair_minute_ns = c.pair_minute_ns
    group by c.asof_ns
),

marks_with_estimates as (
    select
        m.session_date,
        m.asof_ns,
        m.rth_close_ns,
        {{ e9_to_spy('es.price_e9') }} as spot,
        a.atm_reference,
        e.basis_estimate,
        coalesce(e.n_pairs, 0) as n_pairs
    from marks as m
    asof left join es_last_per_ts as es
        on m.asof_ns > es.ts_event_ns
    left join atm_reference as a using (asof_ns)
    left join estimates as e using (asof_ns)
)

select
    session_date,
    asof_ns,
    spot,
    {{ fuel_trading_years('asof_ns', 'rth_close_ns') }} as t_years,
    coalesce(
        last_value(basis_estimate ignore nulls) over (
            order by asof_ns rows between unbounded preceding and current row
        ),
        0.0
    ) as option_basis,
    basis_estimate,
    atm_reference as atm_implied_spot,
    n_pairs
from marks_with_estimates
order by asof_ns
