-- SPY 0DTE option prints of the run date (staging: deduplicated, 0DTE, customer aggressor) with the
-- SPY-frame spot as known at each print (SPEC §7.3): the last front-month ES trade with
-- ts_event_ns <= the print's ts_event_ns (several ES prints at that timestamp: the last by print_order_key),
-- divided by es_spy_ratio; NULL before the session's first ES trade.
-- Materialized once, narrow, so the staging view (dedup + tick rule) is evaluated once per run.
-- Unordered (consumers order what they need).

with option_trades as (
    select session_date, ts_event_ns, seq, strike, option_right, price, size, aggressor, bronze_aggressor
    from {{ ref('stg_bronze__spy_option_trades') }}
),

es_last_per_ts as (
    -- front-month ES of the run date: the last print (print_order_key) at each timestamp
    select * from {{ fuel_es_last_per_ts() }}
)

select
    t.session_date,
    t.ts_event_ns,
    t.seq,
    t.strike,
    t.option_right,
    t.price,
    t.size,
    t.aggressor,
    t.bronze_aggressor,
    {{ e9_to_spy('es.price_e9') }} as spot
from option_trades as t
asof left join es_last_per_ts as es
    on t.ts_event_ns >= es.ts_event_ns
