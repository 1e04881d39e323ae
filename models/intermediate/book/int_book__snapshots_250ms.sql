-- The run date's ES MBP-10 book downsampled to one snapshot per 250 ms (SPEC §7.2): for every
-- bucket floor(ts_event_ns / 250 ms) on the UTC epoch, the last record by (ts_event_ns, seq) among
-- the records staging keeps (front month, crossed books excluded). A record exactly on a bucket
-- boundary belongs to the later bucket. Range: from the earliest barrier or wall_ratio lookback of
-- the first possible decision time (RTH open + 60 s - 30 min - 240 s) to the RTH close.
--
-- Built straight from the same filtered rows as stg_bronze__es_mbp10 (macro
-- book_front_month_records) but WITHOUT first collapsing duplicate copies of a record: duplicates
-- are identical, so they cannot change which record is last in a bucket, and skipping the dedup of
-- ~5M x 46 columns is most of this model's speed. Two passes: the latest ts per bucket from a
-- narrow scan, then the 40 level columns only of the records at that instant (DuckDB pushes that
-- semi-join into the parquet scan); a bucket with one candidate takes it, the few tied buckets are
-- reduced by a window (measured ~1.6x faster than 40 arg_max over all ~5M rows, and several times
-- faster than one row_number() window or a struct-valued arg_max over all of them). Empty levels are NULLed after the reduction (on
-- ~100k rows instead of ~5M); prices become exact int64 1e-9 ES points.
-- Also precomputed per snapshot for int_physics__barrier's wall_ratio: the total size and count of
-- non-empty levels (both sides).
-- Without MBP-10 for the date (bb_has_mbp10 false) the plugin points the source at an empty file and
-- this table is empty.
{%- set bucket_ns = book_bucket_ns() %}
{%- set lead_ns = barrier_wall_lookback_ns() + barrier_window_ns() - ns_per_minute() %}
{%- if lead_ns > mbp10_lead_ns() %}
    {{ exceptions.raise_compiler_error("breakbounce: mbp10_lead_minutes must cover the first decision's barrier look-back (" ~ lead_ns ~ " ns)") }}
{%- endif %}
{%- set book_levels = [] %}
{%- for s in ['bid', 'ask'] %}{% for i in range(1, 11) %}{% do book_levels.append((s, i)) %}{% endfor %}{% endfor %}

with bucket_last_ts as (
    -- pass 1 (narrow: ts, contract, level 1 for the crossed test): the latest ts_event_ns per bucket
    select max(ts_event_ns) as ts_event_ns
    from ({{ book_front_month_records(lead_ns, 'm.ts_event_ns') }})
    group by ts_event_ns // {{ bucket_ns }}
),

candidates as materialized (
    -- pass 2: only the records at their bucket's latest instant (a few per bucket: records of one
    -- book event share ts_event_ns) carry their 40 level columns into the reduction
    select *, ts_event_ns // {{ bucket_ns }} as bucket
    from ({{ book_front_month_records(lead_ns) }})
    where ts_event_ns in (select ts_event_ns from bucket_last_ts)
),

tied_buckets as (
    -- buckets with more than one candidate (a minority): only these need the tie-break
    select bucket from candidates group by bucket having count(*) > 1
),

last_per_bucket as (
    -- the last record of each bucket by (ts_event_ns, seq); a tie beyond that (records of one venue
    -- packet can share both) goes to the later ts_recv_ns, then to the book content, so one whole
    -- record is always chosen, deterministically. A bucket's only candidate is its snapshot; the
    -- window (40+ sort keys) runs over the tied buckets' candidates alone.
    select
        bucket,
        ts_event_ns as snapshot_ts_ns,
        seq,
        {{ book_level_columns() }}
    from candidates
    where bucket not in (select bucket from tied_buckets)
    union all
    select
        bucket,
        ts_event_ns as snapshot_ts_ns,
        seq,
        {{ book_level_columns() }}
    from candidates
    where bucket in (select bucket from tied_buckets)
    qualify row_number() over (
        partition by bucket
        order by ts_event_ns desc, seq desc nulls last, ts_recv_ns desc nulls last,
            {%- for s, i in book_levels %}
            {{ s }}_px_{{ i }} desc nulls last, {{ s }}_sz_{{ i }} desc nulls last{{ "," if not loop.last }}
            {%- endfor %}
    ) = 1
),

typed as (
    -- empty levels NULL, prices in exact 1e-9 ES points
    select
        bucket,
        snapshot_ts_ns,
        seq,
        {%- for s, i in book_levels %}
        case when {{ book_level_present(s, i) }} then round({{ s }}_px_{{ i }} * 1e9)::bigint end as {{ s }}_px_e9_{{ i }},
        case when {{ book_level_present(s, i) }} then {{ s }}_sz_{{ i }}::bigint end as {{ s }}_sz_{{ i }}{{ "," if not loop.last }}
        {%- endfor %}
    from last_per_bucket
),

level_totals as (
    select
        *,
        (
            {%- for s, i in book_levels %}
            coalesce({{ s }}_sz_{{ i }}, 0){{ " +" if not loop.last }}
            {%- endfor %}
        )::bigint as level_size_sum,
        (
            {%- for s, i in book_levels %}
            ({{ s }}_sz_{{ i }} is not null)::int{{ " +" if not loop.last }}
            {%- endfor %}
        )::int as level_count
    from typed
)

select
    {{ run_date() }} as session_date,
    bucket * {{ bucket_ns }} as bucket_start_ns,
    snapshot_ts_ns,
    seq,
    {%- for s, i in book_levels %}
    {{ s }}_px_e9_{{ i }},
    {{ s }}_sz_{{ i }},
    {%- endfor %}
    level_size_sum,
    level_count
from level_totals
order by bucket_start_ns
