-- ES trades of the run date's Globex session (18:00 ET D-1 -> 17:00 ET D): typed, exact duplicates
-- removed, and the session's front month flagged. Only the run date needs print-level detail: the
-- warmup sessions are only used through their minute bars, which int_bars__es_warmup_minutes builds
-- straight from Bronze with the same duplicate, session and front-month rules.
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
    -- exact duplicates: identical in every column staging uses (source, exchange and conditions are
    -- not used, so rows differing only there are copies of one print as far as any model can tell)
    select
        ts_event_ns::bigint as ts_event_ns,
        ts_recv_ns::bigint as ts_recv_ns,
        seq::bigint as seq,
        symbol as contract,
        price::double as price,
        size::bigint as size,
        aggressor::tinyint as aggressor,
        count(*) as n_copies
    from source
    group by ts_event_ns, ts_recv_ns, seq, symbol, price, size, aggressor
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
        on t.ts_event_ns // 3600000000000 = s.hour_key
),

contract_volume as (
    select
        session_date,
        contract,
        sum(size) filter (where is_rth) as rth_volume,
        sum(size) as volume
    from in_session
    group by session_date, contract
),

front_month as (
    -- the contract with the largest RTH volume (whole-session volume, then name, break ties)
    select
        session_date,
        arg_max(contract, (coalesce(rth_volume, 0), volume, contract)) as front_contract
    from contract_volume
    group by session_date
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
    round(t.price * 1e9)::bigint as price_e9,
    t.size,
    t.aggressor,
    t.n_copies
from in_session as t
inner join front_month as f using (session_date)
-- no ORDER BY: sorting millions of prints costs a second and every consumer orders explicitly
