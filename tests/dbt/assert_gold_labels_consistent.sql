-- Gold label columns obey SPEC §6 for every window: outcome values, anchors, NULL semantics of
-- UNDEFINED, times in [0, lookforward], tradeable_k <=> a time exists, time_to_threshold = the
-- smaller side, the outcome agrees with the $2 first passages, and the un-suffixed columns are the
-- primary window's copy. Returns the offending rows.
{%- set n_thr = var('label_thresholds') | length %}
{%- set lookforward = var('lookforward_seconds') %}
{%- set primary = label_suffix(primary_label_window()) %}

select event_id, ts_ns, level_kind
from {{ ref('fct_touch_signals') }}
where false
{%- for w in label_windows() %}
{%- set s = label_suffix(w) %}
    or outcome{{ s }} not in ('BREAK', 'BOUNCE', 'CHOP', 'UNDEFINED') or outcome{{ s }} is null
    or confirm_ts_ns{{ s }} is distinct from ts_ns + {{ seconds_ns(w) }}
    or (outcome{{ s }} = 'UNDEFINED') <> (anchor_spot{{ s }} is null)
    or (outcome{{ s }} = 'UNDEFINED') <> (future_price{{ s }} is null)
    or (outcome{{ s }} = 'UNDEFINED') <> (excursion_max{{ s }} is null)
    or excursion_max{{ s }} < 0 or excursion_min{{ s }} < 0
    or abs(strength_signed{{ s }} - (excursion_max{{ s }} - excursion_min{{ s }})) > 1e-9
    or strength_abs{{ s }} is distinct from greatest(excursion_max{{ s }}, excursion_min{{ s }})
    {%- for k in range(1, n_thr + 1) %}
    or time_to_break_{{ k }}{{ s }} not between 0 and {{ lookforward }}
    or time_to_bounce_{{ k }}{{ s }} not between 0 and {{ lookforward }}
    or time_to_threshold_{{ k }}{{ s }} is distinct from least(time_to_break_{{ k }}{{ s }}, time_to_bounce_{{ k }}{{ s }})
    or tradeable_{{ k }}{{ s }} is distinct from (time_to_threshold_{{ k }}{{ s }} is not null)::tinyint
    {%- endfor %}
    or (outcome{{ s }} = 'BREAK' and not coalesce(time_to_break_{{ n_thr }}{{ s }} <= time_to_bounce_{{ n_thr }}{{ s }}, time_to_break_{{ n_thr }}{{ s }} is not null))
    or (outcome{{ s }} = 'BOUNCE' and not coalesce(time_to_bounce_{{ n_thr }}{{ s }} <= time_to_break_{{ n_thr }}{{ s }}, time_to_bounce_{{ n_thr }}{{ s }} is not null))
    or (outcome{{ s }} = 'CHOP' and time_to_break_{{ n_thr }}{{ s }} is distinct from time_to_bounce_{{ n_thr }}{{ s }})
{%- endfor %}
{%- for col, typ in label_value_columns() if col != 'future_price' %}
    or {{ col }} is distinct from {{ col }}{{ primary }}
{%- endfor %}
    or future_price_5min is distinct from future_price{{ primary }}
