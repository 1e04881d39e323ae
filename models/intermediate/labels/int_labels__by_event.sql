-- The labels of each touch event side by side (SPEC §6): the event's thresholds (label_threshold_k,
-- SPY $), then the per-window columns of
-- int_labels__by_window suffixed by window (_2min, _4min, _8min), then the un-suffixed copy of the
-- primary window (`primary_label_window`, 240 s as in the earlier pipeline) and
-- `future_price_5min` (= that window's future_price; legacy name). One row per event.

{%- set primary = primary_label_window() %}

with by_window as (
    -- one row per (event, window)
    select * from {{ ref('int_labels__by_window') }}
)

select
    event_id,
    any_value(session_date) as session_date,
    {%- for thr in label_thresholds() %}
    any_value(label_threshold_{{ thr.k }}) as label_threshold_{{ thr.k }},
    {%- endfor %}
    {%- for w in label_windows() %}
    {%- set w_loop = loop %}
    {%- for col, typ in label_value_columns() %}
    any_value({{ col }}) filter (where window_s = {{ w }}) as {{ col }}{{ label_suffix(w) }},
    {%- endfor %}
    {%- endfor %}
    {%- for col, typ in label_value_columns() if col != 'future_price' %}
    any_value({{ col }}) filter (where window_s = {{ primary }}) as {{ col }},
    {%- endfor %}
    any_value(future_price) filter (where window_s = {{ primary }}) as future_price_5min
from by_window
group by event_id
order by event_id
