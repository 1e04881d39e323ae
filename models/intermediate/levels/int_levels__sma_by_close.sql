-- SMA_200 / SMA_400 after each 2-minute bar closes (SPEC §4): the mean close of the last 200 / 400
-- 2-min bars of the run date and its SMA warmup sessions (warmup first, as one sequence), in exact
-- 1e-9 ES points (an exact integer running sum divided once); NULL while too few bars exist.
-- Shared by int_levels__as_of_minute (values at each minute mark) and int_context__mean_reversion
-- (values at t_dec and earlier, for slopes). Ephemeral: inlined into both.
{{ config(materialized='ephemeral') }}

with sma_bars as (
    -- bar count and exact running sum of the closes up to each bar
    select
        bar_start_ns + {{ minutes_ns(2) }} as closed_ns,
        row_number() over upto_bar as n_bars,
        sum(close_e9::hugeint) over upto_bar as cum_close_e9
    from {{ ref('int_bars__es_2min') }}
    window upto_bar as (order by bar_start_ns rows between unbounded preceding and current row)
)

select
    closed_ns,
    case when n_bars >= 200
        then (cum_close_e9 - coalesce(lag(cum_close_e9, 200) over by_close, 0)) / 200
    end as sma_200_e9,
    case when n_bars >= 400
        then (cum_close_e9 - coalesce(lag(cum_close_e9, 400) over by_close, 0)) / 400
    end as sma_400_e9
from sma_bars
window by_close as (order by closed_ns)
