{#-
  The UTC hours of Globex sessions, one row per (session, hour_key = ts_ns // 1 h), with the
  session's RTH bounds. A Globex day (18:00 ET D-1 -> 17:00 ET D) is a whole number of UTC hours, so
  joining prints on `ts_event_ns // 3600000000000 = hour_key` assigns each print to its session with a
  hash join instead of sorting millions of rows. `session_filter`: a boolean SQL expression over the
  calendar's session_date.
-#}
{% macro session_hours(session_filter) -%}
    (
        select
            session_date,
            rth_open_ns,
            rth_close_ns,
            unnest(range(globex_open_ns // {{ ns_per_hour() }}, globex_close_ns // {{ ns_per_hour() }})) as hour_key
        from {{ ref('trading_calendar') }}
        where {{ session_filter }}
    )
{%- endmacro %}
