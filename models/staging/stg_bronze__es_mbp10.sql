-- ES MBP-10 of the run date's RTH (from an hour before the open): the front-month contract only,
-- empty levels (Databento's UNDEF sentinel, or size 0) as NULL, crossed/locked books excluded
-- (counted in int_quality__bronze_drops), duplicates of one record (same contract, ts_event_ns,
-- ts_recv_ns and seq) kept once.
{%- set levels = range(1, 11) %}

with source as (
    select * from {{ source('bronze', 'es_mbp10') }}
),

front_month as (
    select distinct contract
    from {{ ref('stg_bronze__es_trades') }}
    where session_date = {{ run_date() }} and is_front_month
),

session as (
    select * from {{ ref('trading_calendar') }} where session_date = {{ run_date() }}
),

typed as (
    select
        ts_event_ns::bigint as ts_event_ns,
        ts_recv_ns::bigint as ts_recv_ns,
        seq::bigint as seq,
        symbol as contract,
        {%- for i in levels %}
        {{ book_level('bid', i) }},
        {{ book_level('ask', i) }}{{ "," if not loop.last }}
        {%- endfor %}
    from source
    where symbol in (select contract from front_month)
        and ts_event_ns >= (select rth_open_ns - 3600000000000 from session)
        and ts_event_ns < (select rth_close_ns from session)
),

deduplicated as (
    select *
    from typed
    qualify row_number() over (partition by contract, ts_event_ns, ts_recv_ns, seq) = 1
)

select
    {{ run_date() }} as session_date,
    *
from deduplicated
where not coalesce(ask_px_1 <= bid_px_1, false)
