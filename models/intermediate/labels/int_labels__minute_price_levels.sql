-- First-passage index of the run date's RTH tape (front month), one row per (1-minute bucket,
-- side, traded price): for side +1 the first time in the bucket that a trade printed at this price
-- OR HIGHER, for side -1 the first time at this price OR LOWER. "First trade in bucket b with
-- price >= U" is then an ASOF lookup of the smallest traded price >= U in b (side +1), and "price
-- <= D" of the largest traded price <= D (side -1, stored with key = -price so both sides use
-- `bound_key <= key_e9`). Keys are distinct per (bucket, side), so the lookup is deterministic.
-- int_labels__by_window uses it to time threshold crossings at trade level without a range join.

with rth_trades as (
    -- the run date's RTH front-month trades with their 1-minute bucket
    select
        t.ts_event_ns,
        t.price_e9,
        (t.ts_event_ns // {{ ns_per_minute() }}) * {{ ns_per_minute() }} as bucket_ns
    from {{ ref('stg_bronze__es_trades') }} as t
    where t.session_date = {{ run_date() }}
        and t.is_front_month
        and t.is_rth
),

price_first_seen as (
    -- first print of each price in each bucket
    select bucket_ns, price_e9, min(ts_event_ns) as first_ts_ns
    from rth_trades
    group by bucket_ns, price_e9
),

first_reached as (
    -- first print at this price or beyond it (higher for +1, lower for -1)
    select
        bucket_ns,
        price_e9,
        min(first_ts_ns) over (
            partition by bucket_ns order by price_e9 desc rows between unbounded preceding and current row
        ) as first_at_or_above_ns,
        min(first_ts_ns) over (
            partition by bucket_ns order by price_e9 asc rows between unbounded preceding and current row
        ) as first_at_or_below_ns
    from price_first_seen
)

select bucket_ns, 1::tinyint as side, price_e9 as key_e9, first_at_or_above_ns as first_ts_ns
from first_reached
union all
select bucket_ns, -1::tinyint as side, -price_e9 as key_e9, first_at_or_below_ns as first_ts_ns
from first_reached
order by bucket_ns, side, key_e9
