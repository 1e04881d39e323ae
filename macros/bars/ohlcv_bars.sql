{#-
  OHLCV bars of front-month ES trades, SPEC §1: bucket = floor(ts_event_ns / width) on the UTC epoch,
  labelled by bar start; open/close = first/last trade by (ts_event_ns, seq) (exact ties: print_order_key); empty bars
  do not exist. Prices are in the SPY frame (ES / es_spy_ratio, divided after aggregation, so e.g. high is
  exactly max(price) / ratio); the *_e9 columns keep the ES price in exact 1e-9 point integers.
  Volume stays in ES contracts. `session_filter` is a boolean SQL expression over session_date.
-#}
{% macro ohlcv_bars(width_seconds, session_filter) -%}
    {%- set width_ns = seconds_ns(width_seconds) -%}
    select
        session_date,
        (ts_event_ns // {{ width_ns }}) * {{ width_ns }} as bar_start_ns,
        arg_min(price_e9, {{ print_order_key() }}) as open_e9,
        max(price_e9) as high_e9,
        min(price_e9) as low_e9,
        arg_max(price_e9, {{ print_order_key() }}) as close_e9,
        sum(size)::bigint as volume,
        count(*)::bigint as trade_count
    from {{ ref('stg_bronze__es_trades') }}
    where is_front_month
        and ({{ session_filter }})
    group by session_date, bar_start_ns
{%- endmacro %}

{#- ES fixed-point (1e-9 points) to the SPY frame. -#}
{% macro e9_to_spy(expr) -%}
    ({{ expr }} / 1e9 / {{ var('es_spy_ratio') }})
{%- endmacro %}
