-- First-passage index of the run date's RTH tape (front month): within each 1-minute bucket, the
-- trades that set a new high (side +1) or a new low (side -1) of the bucket so far, ordered by
-- (ts_event_ns, seq). The first trade of a bucket reaching price >= U is always such a record, and
-- records are strictly monotone in price, so "first trade >= U in bucket b" is an ASOF lookup of
-- the smallest record key >= U (keys are price for highs, -price for lows). Used by
-- int_labels__by_window to time threshold crossings at trade level without a range join.

with rth_trades as (
    -- the run date's RTH front-month trades with their 1-minute bucket
    select
        t.ts_event_ns,
        t.seq,
        t.price_e9,
        (t.ts_event_ns // 60000000000) * 60000000000 as bucket_ns
    from {{ ref('stg_bronze__es_trades') }} as t
    where t.session_date = {{ run_date() }}
        and t.is_front_month
        and t.is_rth
),

running_extremes as (
    -- the bucket's high and low before each trade
    select
        *,
        max(price_e9) over before_trade as prior_high_e9,
        min(price_e9) over before_trade as prior_low_e9
    from rth_trades
    window before_trade as (
        partition by bucket_ns order by ts_event_ns, seq
        rows between unbounded preceding and 1 preceding
    )
)

select bucket_ns, 1::tinyint as side, price_e9 as key_e9, ts_event_ns
from running_extremes
where prior_high_e9 is null or price_e9 > prior_high_e9
union all
select bucket_ns, -1::tinyint as side, -price_e9 as key_e9, ts_event_ns
from running_extremes
where prior_low_e9 is null or price_e9 < prior_low_e9
order by bucket_ns, side, key_e9
