-- 2-minute bars (SPY frame) of the run date's Globex day and its SMA warmup sessions
-- (`sma_warmup_sessions`, default 3): the input of SMA_200 / SMA_400.

with bars as (
    {{ ohlcv_bars(120, 'session_date in ' ~ run_sessions('sma')) }}
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
    close_e9
from bars
order by session_date, bar_start_ns
