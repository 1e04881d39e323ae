-- A cache of the warmup sessions' ES trades aggregated straight from Bronze to one row per
-- (session, contract, 1-minute bucket), kept across runs in this warehouse: every run needs the
-- minute bars of its 7 prior sessions (4-5 million prints), and consecutive dates share 6 of them.
-- Incremental, delete+insert by session: a run (re)builds only those of its warmup sessions whose
-- Bronze fingerprint (path, size and mtime of exactly the files planned for the session, see
-- breakbounce/plan.py) is not cached yet, so rewritten, added or removed Bronze files rebuild the
-- session, and a session read over a different file set (whole Globex day as an SMA session, RTH
-- span only as a volume-only session) is a different entry. `dbt build --full-refresh` empties it.
-- Consumers read this run's sessions through int_bars__es_warmup_minutes.
-- Same rules as stg_bronze__es_trades: exact duplicates collapsed (es_distinct_prints), each print
-- assigned to the Globex session (18:00 ET D-1 -> 17:00 ET D) containing it. Every contract is kept
-- and is_front_month is NULL: the front month is decided per run (stg_bronze__es_front_month, read
-- by int_bars__es_warmup_minutes), since it can depend on the run's earlier sessions, which are not
-- part of this session's fingerprint. (The column stays so caches built before keep their schema.)
-- A 2-minute bucket is two whole 1-minute buckets, so coarser bars are exact roll-ups of these rows.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='session_date',
          on_schema_change='fail') }}

with source as (
    select * from {{ source('bronze', 'es_trades') }}
),

to_build as (
    -- this run's warmup sessions whose fingerprint is not cached yet
    select * from {{ uncached_warmup_sessions() }}
),

session_hours as (
    -- the Globex hours (whole UTC hours) of the sessions to build: prints join to their session by hour
    select * from {{ session_hours('session_date in (select session_date from to_build)') }}
),

deduplicated as (
    {{ es_distinct_prints("(select * from source where ts_event_ns::bigint // " ~ ns_per_hour() ~ " in (select hour_key from session_hours))") }}
),

minutes as (
    select
        s.session_date,
        t.contract,
        (t.ts_event_ns // {{ ns_per_minute() }}) * {{ ns_per_minute() }} as bar_start_ns,
        arg_min(t.price_e9, {{ print_order_key('t.ts_event_ns', 't.seq', 't.price_e9', 't.aggressor') }}) as open_e9,
        max(t.price_e9) as high_e9,
        min(t.price_e9) as low_e9,
        arg_max(t.price_e9, {{ print_order_key('t.ts_event_ns', 't.seq', 't.price_e9', 't.aggressor') }}) as close_e9,
        sum(t.size)::bigint as volume,
        count(*)::bigint as trade_count,
        sum(t.n_copies)::bigint as n_copies
    from deduplicated as t
    inner join session_hours as s
        on t.ts_event_ns // {{ ns_per_hour() }} = s.hour_key
    group by all
)

select
    m.session_date,
    b.bronze_fingerprint,
    m.contract,
    null::boolean as is_front_month,
    m.bar_start_ns,
    m.open_e9,
    m.high_e9,
    m.low_e9,
    m.close_e9,
    m.volume,
    m.trade_count,
    m.n_copies
from minutes as m
inner join to_build as b using (session_date)
order by m.session_date, m.contract, m.bar_start_ns
