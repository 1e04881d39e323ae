-- Every Gold event re-satisfies the touch rule (SPEC §5) against its 1-minute bar, in the SPY
-- frame with band_tolerance (float comparisons, so a 1e-9 slack more), lies in the label horizon
-- [rth_open, rth_close - max(window) - lookforward], and its bar exists. Returns offending events.
{%- set slack = var('band_tolerance') * 2 %}
{%- set horizon_s = (label_windows() | max) + (var('lookforward_seconds') | int) %}

select g.event_id, g.ts_ns, g.level_kind, g.level_price, b.low, b.high, b.close
from {{ ref('fct_touch_signals') }} as g
left join {{ ref('int_bars__es_1min') }} as b
    on b.session_date = g.session_date and b.bar_start_ns = g.ts_ns
left join {{ ref('trading_calendar') }} as c
    on c.session_date = g.session_date
where b.bar_start_ns is null
    or not (g.level_price >= b.low - {{ var('touch_band') }} - {{ slack }})
    or not (g.level_price <= b.high + {{ var('touch_band') }} + {{ slack }})
    or not (abs(b.close - g.level_price) <= {{ var('monitor_band') }} + {{ slack }})
    or g.spot <> b.close
    or g.atr <> b.atr
    or g.ts_ns < c.rth_open_ns
    or g.ts_ns + {{ seconds_ns(horizon_s) }} > c.rth_close_ns
