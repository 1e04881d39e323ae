-- Option prints of the run date aggregated per contract (strike, right) and minute, keyed by the
-- minute's end `end_ns` = floor(ts / 1 min) + 1 min: everything here is known at any minute mark
-- >= end_ns (all its prints have ts < end_ns). The running state of a contract at a mark t is the
-- sum / latest of its rows with end_ns <= t. Input of the dealer-gamma grid and the flow windows.
--   dealer_contracts   -sum(aggressor * size)   (dealer side; a customer buy makes the dealer short)
--   dealer_flow_micro  sum of dealer_flow in exact integers of 1e-6 share-gamma
--   last_iv_raw        iv_raw of the minute's latest print (by ts, seq) that had one; NULL if none

select
    session_date,
    strike,
    option_right,
    ts_event_ns // {{ ns_per_minute() }} * {{ ns_per_minute() }} + {{ ns_per_minute() }} as end_ns,
    -sum(aggressor * size)::bigint as dealer_contracts,
    sum({{ fuel_to_micro('coalesce(dealer_flow, 0)') }}) as dealer_flow_micro,
    arg_max(iv_raw, (ts_event_ns, seq, iv_raw)) filter (where iv_raw is not null) as last_iv_raw,
    count(*) as n_prints
from {{ ref('int_options__trade_greeks') }}
group by all
order by end_ns, strike, option_right
