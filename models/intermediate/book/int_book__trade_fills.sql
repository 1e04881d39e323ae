-- The run date's front-month ES prints with a side, assigned to the book snapshot that closes their
-- interval (SPEC §7.2 "filled"): a print belongs to the first snapshot of int_book__snapshots_250ms
-- with snapshot_ts_ns >= its ts_event_ns, so the consecutive pair (prev, curr) owns the prints with
-- prev.ts < ts <= curr.ts. Summed per (snapshot bucket, aggressor, price): int_physics__barrier
-- takes, for each falling pair of an event window, the volume that hit the defending side in the
-- zone. Depends on no event, so it is built beside the option models, before the touches exist.
-- Prints after the last snapshot have no row. Empty without MBP-10 for the date.

with trades as (
    select ts_event_ns, aggressor, price_e9, size
    from {{ ref('stg_bronze__es_trades') }}
    where session_date = {{ run_date() }}
        and is_front_month
        and aggressor <> 0
),

snapshots as (
    select bucket_start_ns, snapshot_ts_ns
    from {{ ref('int_book__snapshots_250ms') }}
)

select
    {{ run_date() }} as session_date,
    s.bucket_start_ns,
    t.aggressor,
    t.price_e9,
    sum(t.size)::bigint as size,
    count(*)::bigint as n_prints
from trades as t
asof inner join snapshots as s
    on t.ts_event_ns <= s.snapshot_ts_ns
group by s.bucket_start_ns, t.aggressor, t.price_e9
order by s.bucket_start_ns, t.aggressor, t.price_e9
