-- 2-minute bars (SPY frame) of the run date's Globex day and its SMA warmup sessions
-- (`sma_warmup_sessions`, default 3): the input of SMA_200 / SMA_400.

with bars as (
    -- the run date from its prints
    {{ ohlcv_bars(120, 'session_date = ' ~ run_date()) }}
    union all
    -- the SMA warmup sessions: a 2-minute bucket is exactly two 1-minute buckets, so its open / close
    -- are those of its first / last non-empty minute and the rest are sums and extremes
    select
        session_date,
        (minute_ns // {{ minutes_ns(2) }}) * {{ minutes_ns(2) }} as bar_start_ns,
        arg_min(open_e9, minute_ns) as open_e9,
        max(high_e9) as high_e9,
        min(low_e9) as low_e9,
        arg_max(close_e9, minute_ns) as close_e9,
        sum(volume)::bigint as volume,
        sum(trade_count)::bigint as trade_count
    from (
        select session_date, bar_start_ns as minute_ns, open_e9, high_e9, low_e9, close_e9, volume, trade_count
        from {{ ref('int_bars__es_warmup_minutes') }}
        where is_front_month
            and session_date in {{ run_sessions('sma') }}
    )
    group by 1, 2
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
