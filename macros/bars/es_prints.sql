{#-
  Staging's rule for ES prints, written once (SPEC §3), used for the run date (stg_bronze__es_trades),
  the warmup sessions (stg_bronze__es_session_minutes) and the front-month choice
  (stg_bronze__es_front_month): Bronze rows typed, exact duplicates collapsed. A duplicate is a row
  identical in every column staging uses (source, exchange and conditions are not used, so rows that
  differ only there are copies of one print as far as any model can tell); n_copies counts them.
  `from_sql`: a FROM item holding Bronze ES trades rows (the source, or a filtered subquery of it).
-#}
{% macro es_distinct_prints(from_sql) -%}
    select
        ts_event_ns::bigint as ts_event_ns,
        ts_recv_ns::bigint as ts_recv_ns,
        seq::bigint as seq,
        symbol as contract,
        price::double as price,
        round(price::double * 1e9)::bigint as price_e9,
        size::bigint as size,
        aggressor::tinyint as aggressor,
        count(*) as n_copies
    from {{ from_sql }}
    group by ts_event_ns, ts_recv_ns, seq, symbol, price, size, aggressor
{%- endmacro %}

{#-
  Rule 1 of the front month (SPEC §3), written once: per session and contract, the volume of the
  distinct prints (es_distinct_prints) in the session's pre-open span [Globex open, 09:30 ET).
  `sessions`: a FROM item with session_date, globex_open_ns, rth_open_ns. Only the UTC hours of those
  spans are read. A subquery of (session_date, contract, pre_open_volume).
-#}
{% macro es_pre_open_volumes(sessions) -%}
    {%- set hour_ns = ns_per_hour() -%}
    (
        with pre_open_hours as (
            select
                session_date,
                globex_open_ns,
                rth_open_ns,
                unnest(range(globex_open_ns // {{ hour_ns }}, (rth_open_ns - 1) // {{ hour_ns }} + 1)) as hour_key
            from {{ sessions }}
        ),

        prints as (
            {{ es_distinct_prints("(select * from " ~ source('bronze', 'es_trades')
                ~ " where ts_event_ns::bigint // " ~ hour_ns ~ " in (select hour_key from pre_open_hours))") }}
        )

        select h.session_date, p.contract, sum(p.size)::bigint as pre_open_volume
        from prints as p
        inner join pre_open_hours as h
            on p.ts_event_ns // {{ hour_ns }} = h.hour_key
        where p.ts_event_ns >= h.globex_open_ns and p.ts_event_ns < h.rth_open_ns
        group by h.session_date, p.contract
    )
{%- endmacro %}

{#-
  The warmup cache models' work list: this run's warmup sessions (session_date, bronze_fingerprint)
  whose Bronze fingerprint the calling incremental model (`this`) has not cached yet; every one of
  them on a full build. A subquery.
-#}
{% macro uncached_warmup_sessions() -%}
    (
        select w.session_date, w.bronze_fingerprint
        from {{ warmup_fingerprints() }} as w
        {%- if incremental_build() %}
        where not exists (
            select 1 from {{ this }} as c
            where c.session_date = w.session_date and c.bronze_fingerprint = w.bronze_fingerprint
        )
        {%- endif %}
    )
{%- endmacro %}
