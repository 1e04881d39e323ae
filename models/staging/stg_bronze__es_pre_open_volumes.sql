-- A per-warehouse cache of the warmup sessions' pre-open volumes (rule 1 of the front month, SPEC
-- §3): per session and contract, the volume of the distinct prints in [Globex open, 09:30 ET)
-- (es_pre_open_volumes, the same code as the run date's). Incremental, delete+insert by session,
-- keyed by the Bronze fingerprint of the session's planned files like stg_bronze__es_session_minutes:
-- a run reads only the pre-open hours of the warmup sessions not cached yet. A session without any
-- pre-open print is cached as one row with contract NULL and volume 0.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='session_date',
          on_schema_change='fail') }}

with to_build as (
    -- this run's warmup sessions whose fingerprint is not cached yet
    select * from {{ uncached_warmup_sessions() }}
),

sessions as (
    select c.session_date, c.globex_open_ns, c.rth_open_ns, b.bronze_fingerprint
    from {{ ref('trading_calendar') }} as c
    inner join to_build as b using (session_date)
),

volumes as (
    select * from {{ es_pre_open_volumes('sessions') }}
)

select
    s.session_date,
    s.bronze_fingerprint,
    v.contract,
    coalesce(v.pre_open_volume, 0)::bigint as pre_open_volume
from sessions as s
left join volumes as v using (session_date)
order by s.session_date, v.contract
