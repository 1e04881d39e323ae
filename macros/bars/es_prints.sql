{#-
  Staging's rule for ES prints, written once (SPEC §3), used for the run date (stg_bronze__es_trades),
  the warmup sessions (int_bars__es_session_minutes) and the front-month choice
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
