-- SPY 0DTE option trades of the run date: typed, exact duplicates removed, expiring on the run date
-- and stamped inside its session (Globex window, like ES prints), with the customer aggressor side: Bronze `aggressor` when non-zero, else the tick rule per
-- contract ordered by (ts_event_ns, seq) where a zero tick carries the previous non-zero sign and a
-- contract's first print is 0 (SPEC §3). Prints sharing (ts_event_ns, seq) follow ts_recv_ns, price,
-- size and the Bronze side, so which of them gets which sign never depends on file order or threads.

{#- the tick rule's order: (ts_event_ns, seq), then every other column kept (rows still tied are identical) -#}
{%- set print_order = 'ts_event_ns, seq, ts_recv_ns, price, size, bronze_aggressor' %}

with source as (
    select * from {{ source('bronze', 'spy_option_trades') }}
),

deduplicated as (
    select
        ts_event_ns::bigint as ts_event_ns,
        ts_recv_ns::bigint as ts_recv_ns,
        seq::bigint as seq,
        underlying,
        option_symbol,
        exp_date::date as exp_date,
        strike::double as strike,
        "right" as option_right,
        price::double as price,
        size::bigint as size,
        aggressor::tinyint as bronze_aggressor
    from source
    group by ts_event_ns, ts_recv_ns, source, underlying, option_symbol, exp_date, strike, "right",
        price, size, opt_bid, opt_ask, seq, aggressor
),

zero_dte as (
    -- expiring on the run date and stamped inside its session (18:00 ET D-1 -> 17:00 ET D), as ES
    -- prints are; the others are counted in int_quality__bronze_drops (not_zero_dte, outside_session).
    -- The window comes from run variables (the calendar's values, set by the plan): constants let
    -- DuckDB estimate this filter; a join to the calendar made it expect a few rows and run
    -- int_options__trades_as_of_spot's ASOF join as a nested loop (20 ms -> 2 s on a small day)
    select *
    from deduplicated
    where exp_date = {{ run_date() }}
        and ts_event_ns >= getvariable('bb_session_start_ns')
        and ts_event_ns < getvariable('bb_session_end_ns')
),

ticks as (
    select
        *,
        nullif(sign(price - lag(price) over by_contract), 0) as tick
    from zero_dte
    window by_contract as (partition by option_symbol order by {{ print_order }})
),

tick_rule as (
    select
        *,
        coalesce(
            last_value(tick ignore nulls) over (
                partition by option_symbol order by {{ print_order }}
                rows between unbounded preceding and current row
            ),
            0
        )::tinyint as tick_sign
    from ticks
)

select
    {{ run_date() }} as session_date,
    ts_event_ns,
    ts_recv_ns,
    seq,
    option_symbol,
    strike,
    option_right,
    price,
    size,
    bronze_aggressor,
    tick_sign,
    case when bronze_aggressor <> 0 then bronze_aggressor else tick_sign end as aggressor
from tick_rule
