{#-
  The run date's front-month ES tape reduced to one price per timestamp (the last print at that
  ts_event_ns by print_order_key), for deterministic as-of SPY-frame spots via ASOF JOIN. A subquery.
-#}
{% macro fuel_es_last_per_ts() -%}
    (
        select
            ts_event_ns,
            arg_max(price_e9, {{ print_order_key() }}) as price_e9
        from {{ ref('stg_bronze__es_trades') }}
        where session_date = {{ run_date() }}
            and is_front_month
        group by ts_event_ns
    )
{%- endmacro %}
