-- ES MBP-10 of the run date's RTH (from an hour before the open): the front-month contract only,
-- empty levels (Databento's UNDEF sentinel, or size 0) as NULL, crossed/locked books excluded
-- (counted in int_quality__bronze_drops), duplicates of one record (same contract, ts_event_ns,
-- ts_recv_ns and seq) kept once.
-- The filtered Bronze rows come from the macro book_front_month_records (macros/physics), which
-- int_book__snapshots_250ms shares; the crossed-book test there runs on the raw level-1 columns
-- with the same NULL rules as book_level(), so filtering before or after the dedup is the same.
{%- set levels = range(1, 11) %}

with records as (
    {{ book_front_month_records(mbp10_lead_ns(),
        'm.ts_event_ns, m.ts_recv_ns, m.seq, m.symbol, ' ~ book_level_columns('m')) }}
),

deduplicated as (
    select *
    from records
    qualify row_number() over (partition by symbol, ts_event_ns, ts_recv_ns, seq) = 1
)

select
    {{ run_date() }} as session_date,
    ts_event_ns::bigint as ts_event_ns,
    ts_recv_ns::bigint as ts_recv_ns,
    seq::bigint as seq,
    symbol as contract,
    {%- for i in levels %}
    {{ book_level('bid', i) }},
    {{ book_level('ask', i) }}{{ "," if not loop.last }}
    {%- endfor %}
from deduplicated
