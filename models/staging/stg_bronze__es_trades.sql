-- ES trades of the run date's Globex session (18:00 ET D-1 -> 17:00 ET D): typed, exact duplicates
-- removed (es_distinct_prints, the rule every ES reader shares), and the session's front month
-- flagged as stg_bronze__es_front_month decided it (SPEC §3: the pre-open volume leader). Only the
-- run date needs print-level detail: the warmup sessions are only used through their minute bars
-- (stg_bronze__es_session_minutes, same print rule; int_bars__es_warmup_minutes, same front months).
-- Materialized as a table (not a view like the other staging models) because every downstream
-- consumer of the tape (bars, levels, labels, tape physics) would otherwise re-read and re-dedup Bronze.
{{ config(materialized='table') }}

with run_session as (
    select globex_open_ns, globex_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

source as (
    -- the run date's Globex window only (the planned files also hold the warmup sessions)
    select b.*
    from {{ source('bronze', 'es_trades') }} as b
    inner join (select min(globex_open_ns) as from_ns, min(globex_close_ns) as to_ns from run_session) as w
        on b.ts_event_ns >= w.from_ns and b.ts_event_ns < w.to_ns
),

deduplicated as (
    {{ es_distinct_prints('source') }}
),

session_hours as (
    -- the run date's Globex hours (whole UTC hours): prints join to their session by hour
    select * from {{ session_hours('session_date = ' ~ run_date()) }}
),

in_session as (
    select
        s.session_date,
        t.*,
        t.ts_event_ns >= s.rth_open_ns and t.ts_event_ns < s.rth_close_ns as is_rth
    from deduplicated as t
    inner join session_hours as s
        on t.ts_event_ns // {{ ns_per_hour() }} = s.hour_key
),

front_month as (
    select session_date, front_contract
    from {{ ref('stg_bronze__es_front_month') }}
    where session_date = {{ run_date() }}
)

select
    t.session_date,
    t.ts_event_ns,
    t.ts_recv_ns,
    t.seq,
    t.contract,
    t.contract = f.front_contract as is_front_month,
    t.is_rth,
    t.price,
    -- the price as an exact integer of 1e-9 points (Databento's fixed-point unit), so sums and
    -- differences used by VWAP, SMA and ATR are exact and independent of summation order
    t.price_e9,
    t.size,
    t.aggressor,
    t.n_copies
from in_session as t
inner join front_month as f using (session_date)
-- no ORDER BY: sorting millions of prints costs a second and every consumer orders explicitly
