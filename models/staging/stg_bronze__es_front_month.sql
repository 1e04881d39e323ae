-- The front-month ES contract of every session of this run (the run date and its warmup sessions),
-- SPEC §3, decided here once for all of them:
--   1. the contract with the largest volume over [Globex open of D (18:00 ET D-1), 09:30 ET D), over
--      distinct prints (es_distinct_prints): known before any RTH decision, so a run on Bronze cut at
--      any time after 09:30 picks the same contract, also on a roll day;
--   2. a tie for the largest, or no print in that span: the previous session's front month (the
--      previous session of this run, by the same rule);
--   3. failing that (no earlier session decided by rule 1): the contract of the first RTH print of the
--      run's oldest session, by (ts_event_ns, seq, contract) - the session rule 2 leads back to.
-- Rule 1 reads the run date's pre-open hours; the warmup sessions' volumes are cached by Bronze
-- fingerprint (stg_bronze__es_pre_open_volumes, the same macro). Rule 3 reads the oldest session's
-- RTH prints. Grain: one row per run session.
{{ config(materialized='table') }}

with sessions as (
    -- the run's sessions
    select session_date, globex_open_ns, rth_open_ns, rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date in {{ run_sessions('volume') }}
),

run_date_session as (
    select * from sessions where session_date = {{ run_date() }}
),

contract_volume as (
    -- rule 1's volumes: the run date's from Bronze, the warmup sessions' from their cache entries
    select * from {{ es_pre_open_volumes('run_date_session') }}
    union all
    select c.session_date, c.contract, c.pre_open_volume
    from {{ ref('stg_bronze__es_pre_open_volumes') }} as c
    inner join {{ warmup_fingerprints() }} as w
        on c.session_date = w.session_date and c.bronze_fingerprint = w.bronze_fingerprint
    where c.contract is not null
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
        when c.session_date > (select session_date from oldest) then 'PREVIOUS_SESSION'
        else 'FIRST_RTH_PRINT'
    end as front_month_rule,
    c.leader_volume as pre_open_volume,
    c.pre_open_contracts
from chained as c
cross join first_rth_print as f
order by c.session_date
