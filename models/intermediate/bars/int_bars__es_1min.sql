-- 1-minute bars (SPY frame) of the run date's Globex day and of every warmup session, with the
-- 14-bar ATR through each bar (SPEC §4). The warmup sessions' bars come from int_bars__es_warmup_minutes (built
-- straight from Bronze with staging's rules), the run date's from stg_bronze__es_trades.

with bars as (
    -- the run date from its prints; the warmup sessions from their pre-aggregated minutes
    {{ ohlcv_bars(60, 'session_date = ' ~ run_date()) }}
    union all
    select session_date, bar_start_ns, open_e9, high_e9, low_e9, close_e9, volume, trade_count
    from {{ ref('int_bars__es_warmup_minutes') }}
    where is_front_month
),

true_range as (
    select
        *,
        -- exact, in 1e-9 ES points; a session's first bar has no previous close: high - low
        greatest(
            high_e9 - low_e9,
            abs(high_e9 - lag(close_e9) over by_session),
            abs(low_e9 - lag(close_e9) over by_session)
        ) as true_range_e9
    from bars
    window by_session as (partition by session_date order by bar_start_ns)
),

atr as (
    -- the ATR as an exact fraction: sum of the window's true ranges over its bar count (the labels'
    -- volatility-scaled thresholds compare against it in integers)
    select
        *,
        sum(true_range_e9) over last_bars as atr_range_sum_e9,
        count(*) over last_bars as atr_bar_count
    from true_range
    window last_bars as (
        partition by session_date order by bar_start_ns
        rows between {{ var('atr_bars') - 1 }} preceding and current row
    )
)

select
    session_date,
    bar_start_ns,
    {{ e9_to_spy('open_e9') }} as open,
    {{ e9_to_spy('high_e9') }} as high,
    {{ e9_to_spy('low_e9') }} as low,
    {{ e9_to_spy('close_e9') }} as close,
    volume,
    trade_count,
    {{ e9_to_spy('true_range_e9') }} as true_range,
    {{ e9_to_spy('(atr_range_sum_e9 / atr_bar_count)') }} as atr,
    atr_range_sum_e9::bigint as atr_range_sum_e9,
    atr_bar_count::integer as atr_bar_count,
    open_e9,
    high_e9,
    low_e9,
    close_e9
from atr
order by session_date, bar_start_ns
