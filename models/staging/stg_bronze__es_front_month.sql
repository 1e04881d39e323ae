-- The front-month ES contract of every session of this run (the run date and its warmup sessions),
-- SPEC §3, decided here once for all of them:
--   1. the contract with the largest volume over [Globex open of D (18:00 ET D-1), 09:30 ET D), over
--      distinct prints (es_distinct_prints): known before any RTH decision, so a run on Bronze cut at
--      any time after 09:30 picks the same contract, also on a roll day;
--   2. a tie for the largest, or no print in that span: the previous session's front month (the
--      previous session of this run, by the same rule);
--   3. failing that (no earlier session decided by rule 1): the contract of the first RTH print of the
--      run's oldest session, by (ts_event_ns, seq, contract) - the session rule 2 leads back to.
-- Only the pre-open spans (and the oldest session's RTH) are read; the hour join keeps the scan to
-- those partitions' rows. Grain: one row per run session.
{{ config(materialized='table') }}

{%- set hour_ns = 3600000000000 %}

with sessions as (
    -- the run's sessions
    select session_date, globex_open_ns, rth_open_ns, rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date in {{ run_sessions('volume') }}
),

pre_open_hours as (
    -- the UTC hours overlapping each session's pre-open span [Globex open, 09:30)
    select
        session_date,
        globex_open_ns,
        rth_open_ns,
        unnest(range(globex_open_ns // {{ hour_ns }}, (rth_open_ns - 1) // {{ hour_ns }} + 1)) as hour_key
    from sessions
),

pre_open_prints as (
    -- distinct prints of the pre-open spans
    select h.session_date, p.contract, p.size
    from (
        {{ es_distinct_prints("(select * from " ~ source('bronze', 'es_trades')
            ~ " where ts_event_ns::bigint // " ~ hour_ns ~ " in (select hour_key from pre_open_hours))") }}
    ) as p
    inner join pre_open_hours as h
        on p.ts_event_ns // {{ hour_ns }} = h.hour_key
    where p.ts_event_ns >= h.globex_open_ns and p.ts_event_ns < h.rth_open_ns
),

contract_volume as (
    select session_date, contract, sum(size)::bigint as pre_open_volume
    from pre_open_prints
    group by session_date, contract
),

leaders as (
    -- rule 1: the contract with the strictly largest pre-open volume (NULL on a tie)
    select
        session_date,
        case when count(*) filter (where pre_open_volume = top_volume) = 1
            then arg_max(contract, pre_open_volume) end as leader,
        max(pre_open_volume) as leader_volume,
        count(*) as pre_open_contracts
    from (
        select *, max(pre_open_volume) over (partition by session_date) as top_volume
        from contract_volume
    )
    group by session_date
),

oldest as (
    select * from sessions order by session_date limit 1
),

first_rth_print as (
    -- rule 3: the contract of the oldest session's first RTH print
    select arg_min(b.symbol, (b.ts_event_ns::bigint, b.seq::bigint, b.symbol)) as contract
    from {{ source('bronze', 'es_trades') }} as b
    cross join oldest as o
    where b.ts_event_ns >= o.rth_open_ns and b.ts_event_ns < o.rth_close_ns
),

chained as (
    -- rule 2: the latest rule-1 leader at or before each session
    select
        s.session_date,
        l.leader,
        l.leader_volume,
        coalesce(l.pre_open_contracts, 0) as pre_open_contracts,
        last_value(l.leader ignore nulls) over (
            order by s.session_date rows between unbounded preceding and current row
        ) as latest_leader
    from sessions as s
    left join leaders as l using (session_date)
)

select
    c.session_date,
    case
        when coalesce(c.latest_leader, f.contract) is not null then coalesce(c.latest_leader, f.contract)
        when c.session_date = {{ run_date() }}
            then error('breakbounce: no ES print to choose the front month of ' || c.session_date::varchar
                || ' from (no pre-open print in this run''s sessions and no RTH print in the oldest)')
    end as front_contract,
    case
        when c.leader is not null then 'PRE_OPEN_VOLUME'
        when c.latest_leader is not null then 'PREVIOUS_SESSION'
        else 'FIRST_RTH_PRINT'
    end as front_month_rule,
    c.leader_volume as pre_open_volume,
    c.pre_open_contracts
from chained as c
cross join first_rth_print as f
order by c.session_date
