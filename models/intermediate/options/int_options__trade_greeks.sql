-- Black-Scholes greeks and dealer gamma flow of every SPY 0DTE option print of the run date, at
-- print time and causal (SPEC §7.3):
--   option_basis  the strike basis of the latest minute mark <= ts (pairs completed before that
--                 mark), 0 before the first mark; spy_spot = SPY-frame spot as of ts - option_basis
--   t_years       time to the session close in trading years (252 x 6.5 h), 0 after the close
--                 (fuel_trading_years: the formula of bb_trading_years_to_close, in SQL for speed)
--   iv_raw        implied vol solved from the print's price with the real SPY spot and the real
--                 strike (bb_implied_vol_raw; NULL if no solution, e.g. after the close)
--   gamma         BS gamma per share per $1: bb_bs_gamma(spy_spot, strike, t_years,
--                 coalesce(iv_raw, {{ fuel_default_iv() }}), {{ fuel_rate() }})
--   dealer_flow   -aggressor * size * 100 * gamma (share-gamma the dealers took on with the print)
-- Unordered.

with prints as (
    select * from {{ ref('int_options__trades_as_of_spot') }}
),

session as (
    select rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

inputs as (
    select
        t.*,
        coalesce(b.option_basis, 0.0) as option_basis,
        t.spot - coalesce(b.option_basis, 0.0) as spy_spot,
        {{ fuel_trading_years('t.ts_event_ns', 's.rth_close_ns') }} as t_years
    from prints as t
    cross join session as s
    asof left join (
        select asof_ns, option_basis from {{ ref('int_options__basis_by_minute') }}
    ) as b
        on t.ts_event_ns >= b.asof_ns
),

with_iv as (
    select
        *,
        bb_implied_vol_raw(price, spy_spot, strike, t_years, {{ fuel_rate() }}, option_right = 'C') as iv_raw
    from inputs
),

with_gamma as (
    select
        *,
        bb_bs_gamma(spy_spot, strike, t_years, coalesce(iv_raw, {{ fuel_default_iv() }}), {{ fuel_rate() }}) as gamma
    from with_iv
)

select
    session_date,
    ts_event_ns,
    seq,
    strike,
    option_right,
    price,
    size,
    aggressor,
    option_basis,
    spy_spot,
    t_years,
    iv_raw,
    gamma,
    -aggressor * size * 100 * gamma as dealer_flow
from with_gamma
