-- What staging dropped from Bronze for this run, and why: one row per (table, session, reason).
-- `rows` counts Bronze rows; `read` rows are what the planned files held. Reasons:
--   exact_duplicate        identical copies of a record (all columns; MBP-10: same contract,
--                          ts_event_ns, ts_recv_ns and seq, counted exactly)
--   outside_session        ES prints in the planned hour files but outside every Globex session
--                          window of the run (18:00 ET D-1 -> 17:00 ET D)
--   other_contract         not the session's front month (largest RTH volume)
--   outside_window         MBP-10 outside [RTH open - 1 h, RTH close) of the run date
--   crossed_book           MBP-10 rows with ask_px_1 <= bid_px_1
--   not_zero_dte           option prints whose exp_date is not the run date
--   outside_session        (options) 0DTE prints stamped outside the run date's Globex window, as
--                          for ES prints
-- plus informational rows (nothing dropped): tick_rule_aggressor = option prints whose side came
-- from the tick rule because Bronze had aggressor 0.

with es_read as (
    select count(*) as n from {{ source('bronze', 'es_trades') }}
),

es_staged as (
    -- per session: distinct prints kept, distinct prints of other contracts, Bronze copies; the run
    -- date from staging, the warmup sessions from their minute aggregates (same rules)
    select
        session_date,
        count(*) as n_prints,
        count(*) filter (where not is_front_month) as n_other,
        sum(n_copies) as n_copies
    from {{ ref('stg_bronze__es_trades') }}
    group by session_date
    union all
    select
        session_date,
        sum(trade_count),
        coalesce(sum(trade_count) filter (where not is_front_month), 0),
        sum(n_copies)
    from {{ ref('int_bars__es_warmup_minutes') }}
    group by session_date
),

es as (
    select 'es_trades' as table_name, null::date as session_date, 'read' as reason, n as rows from es_read
    union all
    select 'es_trades', session_date, 'exact_duplicate', n_copies - n_prints
    from es_staged
    union all
    select 'es_trades', session_date, 'other_contract', n_other
    from es_staged
    union all
    select 'es_trades', null, 'outside_session', (select n from es_read) - sum(n_copies)
    from es_staged
),

session as (
    select * from {{ ref('trading_calendar') }} where session_date = {{ run_date() }}
),

es_staged_front as (
    select distinct contract from {{ ref('stg_bronze__es_trades') }}
    where session_date = {{ run_date() }} and is_front_month
),

mbp_flags as (
    -- one narrow pass over the planned MBP-10 files
    select
        m.symbol in (select contract from es_staged_front) as is_front,
        m.ts_event_ns >= s.rth_open_ns - {{ mbp10_lead_ns() }} and m.ts_event_ns < s.rth_close_ns as in_window,
        {{ book_level_present('ask', 1, 'm') }} and {{ book_level_present('bid', 1, 'm') }}
            and m.ask_px_1 <= m.bid_px_1 as is_crossed,
        m.ts_event_ns,
        m.ts_recv_ns,
        m.seq
    from {{ source('bronze', 'es_mbp10') }} as m
    cross join session as s
),

kept_records as (
    -- distinct records among the kept rows, exactly: the kept rows are one contract (the front
    -- month), so (ts_event_ns, ts_recv_ns, seq) is the record's identity; grouping on these three
    -- integers is cheaper than hashing them and has no collisions
    select count(*) as n
    from (select distinct ts_event_ns, ts_recv_ns, seq from mbp_flags where is_front and in_window)
),

crossed_records as (
    -- a record counts as crossed when any of its copies is (crossed rows are few)
    select count(*) as n
    from (select distinct ts_event_ns, ts_recv_ns, seq from mbp_flags where is_front and in_window and is_crossed)
),

mbp_counts as (
    select
        count(*) as n_read,
        count(*) filter (where not is_front) as n_other,
        count(*) filter (where is_front and not in_window) as n_outside,
        count(*) filter (where is_front and in_window) as n_kept_copies,
        (select n from kept_records) as n_unique,
        (select n from crossed_records) as n_crossed
    from mbp_flags
),

mbp as (
    select 'es_mbp10' as table_name, {{ run_date() }} as session_date, reason, rows
    from (
        select 'read' as reason, n_read as rows from mbp_counts
        union all select 'other_contract', n_other from mbp_counts
        union all select 'outside_window', n_outside from mbp_counts
        union all select 'exact_duplicate', n_kept_copies - n_unique from mbp_counts
        union all select 'crossed_book', n_crossed from mbp_counts
    )
),

opt_read as (
    select count(*) as n from {{ source('bronze', 'spy_option_trades') }}
),

opt_staged as (
    -- the run date's 0DTE prints, distinct (staging's dedup over every Bronze column), already
    -- materialized by int_options__trades_as_of_spot: no second dedup of the whole option tape
    select
        count(*) as n_zero_dte,
        count(*) filter (where bronze_aggressor = 0) as n_tick_rule
    from {{ ref('int_options__trades_as_of_spot') }}
),

opt_not_staged as (
    -- distinct prints staging does not keep, with the same key as its dedup: another expiry (or
    -- none), or a 0DTE print stamped outside the run date's Globex window
    select
        count(*) filter (where not is_zero_dte) as n_other_expiry,
        count(*) filter (where is_zero_dte) as n_outside
    from (
        select distinct b.ts_event_ns, b.ts_recv_ns, b.source, b.underlying, b.option_symbol, b.exp_date,
            b.strike, b."right", b.price, b.size, b.opt_bid, b.opt_ask, b.seq, b.aggressor,
            coalesce(b.exp_date::date = {{ run_date() }}, false) as is_zero_dte
        from {{ source('bronze', 'spy_option_trades') }} as b
        where b.exp_date::date is distinct from {{ run_date() }}
            or not (b.ts_event_ns >= getvariable('bb_session_start_ns')
                    and b.ts_event_ns < getvariable('bb_session_end_ns'))
    )
),

opt_unique as (
    select
        s.n_zero_dte + o.n_other_expiry + o.n_outside as n,
        s.n_zero_dte,
        o.n_other_expiry,
        o.n_outside,
        s.n_tick_rule
    from opt_staged as s
    cross join opt_not_staged as o
),

opt as (
    select 'spy_option_trades' as table_name, {{ run_date() }} as session_date, reason, rows
    from (
        select 'read' as reason, n as rows from opt_read
        union all select 'exact_duplicate', (select n from opt_read) - n from opt_unique
        union all select 'not_zero_dte', n_other_expiry from opt_unique
        union all select 'outside_session', n_outside from opt_unique
        union all select 'tick_rule_aggressor', n_tick_rule from opt_unique
    )
)

select table_name, session_date, reason, rows::bigint as rows
from (
    select * from es
    union all select * from mbp
    union all select * from opt
)
order by table_name, session_date nulls first, reason
