-- Dealer gamma per option contract (strike, right) at every RTH minute mark t of the run date where
-- the dealer position is non-zero (SPEC §7.3), from prints with ts < t only:
--   dealer_position  -sum(aggressor * size) of the contract's prints with ts < t (contracts)
--   iv               the implied vol of the contract's latest print before t that had one
--                    (iv_raw), else {{ fuel_default_iv() }}
--   dealer_gamma     dealer_position * 100 * BS gamma(spy_spot_t, K, T_t, iv, r), with the real
--                    SPY spot at t (SPY-frame spot - option_basis at t) and the real strike K
--   mapped_strike    K + option_basis at t (SPY frame), for distances to levels and spot
-- A print at ts counts from the first mark after it: floor(ts / 1 min) + 1 min (prints before
-- 09:30 count from the 09:30 mark).

with marks as (
    select session_date, asof_ns, spot, t_years, option_basis
    from {{ ref('int_options__basis_by_minute') }}
),

first_mark as (
    select min(asof_ns) as first_mark_ns from marks
),

contract_minutes as (
    -- per contract and mark: net dealer contracts of the prints counting from that mark, and the
    -- implied vol of the latest of them that had one
    select
        c.strike,
        c.option_right,
        greatest(c.end_ns, f.first_mark_ns) as asof_ns,
        sum(c.dealer_contracts) as dealer_contracts,
        arg_max(c.last_iv_raw, c.end_ns) filter (where c.last_iv_raw is not null) as last_iv,
        sum(c.n_prints) as n_prints
    from {{ ref('int_options__contract_minutes') }} as c
    cross join first_mark as f
    group by all
),

contracts as (
    select strike, option_right, min(asof_ns) as first_asof_ns
    from contract_minutes
    group by all
),

grid as (
    -- every contract at every mark from the first mark its prints count at
    select c.strike, c.option_right, m.*
    from contracts as c
    inner join marks as m
        on m.asof_ns >= c.first_asof_ns
),

state as (
    select
        g.*,
        sum(coalesce(cm.dealer_contracts, 0)) over by_contract as dealer_position,
        last_value(cm.last_iv ignore nulls) over by_contract as last_iv,
        sum(coalesce(cm.n_prints, 0)) over by_contract as n_prints
    from grid as g
    left join contract_minutes as cm using (strike, option_right, asof_ns)
    window by_contract as (
        partition by g.strike, g.option_right order by g.asof_ns
        rows between unbounded preceding and current row
    )
),

open_positions as (
    select
        *,
        coalesce(last_iv, {{ fuel_default_iv() }}) as iv,
        spot - option_basis as spy_spot
    from state
    where dealer_position <> 0
)

select
    session_date,
    asof_ns,
    strike,
    option_right,
    strike + option_basis as mapped_strike,
    dealer_position::bigint as dealer_position,
    n_prints::bigint as n_prints,
    spot,
    option_basis,
    spy_spot,
    t_years,
    last_iv as iv_raw,
    iv,
    bb_dealer_gamma(dealer_position, spy_spot, strike, t_years, iv, {{ fuel_rate() }}) as dealer_gamma
from open_positions
order by asof_ns, strike, option_right
