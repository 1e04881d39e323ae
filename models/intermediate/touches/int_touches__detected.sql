-- Touch events of the run date (SPEC §5): one row per (RTH 1-minute bar, level kind) where the bar
-- touched the level as known at its open T0:
--     low - touch_band <= L <= high + touch_band   and   |close - L| <= monitor_band
-- (both inclusive with band_tolerance). The comparisons run in 1e-9 ES points, where bar prices are
-- exact integers and the bands are integers, so boundary cases on the 0.025 grid are exact.
-- Kept: rth_open <= T0 and T0 + max(confirmation_windows) + lookforward_seconds <= rth_close, so the
-- longest label window ends by the (possibly early) close. The event is decided at the bar's
-- close, t_dec = T0 + 60 s (available_ts_ns).

{%- set touch_band = spy_dollars_to_e9(var('touch_band')) | int %}
{%- set monitor_band = spy_dollars_to_e9(var('monitor_band')) | int %}
{%- set tolerance = spy_dollars_to_e9(var('band_tolerance')) | int %}
{%- set horizon_ns = ((label_windows() | max) + (var('lookforward_seconds') | int)) * ns_per_second() %}

with session as (
    -- the run date's RTH clock
    select session_date, rth_open_ns, rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

eligible_bars as (
    -- RTH bars whose longest label window ends by the close
    select b.*
    from {{ ref('int_bars__es_1min') }} as b
    inner join session as s using (session_date)
    where b.bar_start_ns >= s.rth_open_ns
        and b.bar_start_ns + {{ horizon_ns }} <= s.rth_close_ns
),

touches as (
    -- bar x level pairs meeting both bands ({{ touch_band }}, {{ monitor_band }} and tolerance {{ tolerance }} e9 units)
    select
        b.session_date,
        b.bar_start_ns,
        l.level_kind,
        l.level_kind_name,
        l.level_e9,
        l.level_price,
        b.close_e9,
        b.close,
        b.atr
    from eligible_bars as b
    inner join {{ ref('int_levels__by_bar') }} as l
        on l.session_date = b.session_date and l.bar_start_ns = b.bar_start_ns
    where l.level_e9 >= b.low_e9 - {{ touch_band + tolerance }}
        and l.level_e9 <= b.high_e9 + {{ touch_band + tolerance }}
        and abs(b.close_e9 - l.level_e9) <= {{ monitor_band + tolerance }}
),

events as (
    -- direction: UP = close below the level (testing it from below), else DOWN
    select
        *,
        case when close_e9 < level_e9 then 'UP' else 'DOWN' end as direction
    from touches
),

identified as (
    -- deterministic event id: md5 of 'date|ts_ns|level_kind|direction', shown in UUID layout
    select
        *,
        md5(concat_ws('|', strftime(session_date, '%Y-%m-%d'), bar_start_ns::varchar, level_kind::varchar, direction))
            as id_hex
    from events
)

select
    substr(id_hex, 1, 8) || '-' || substr(id_hex, 9, 4) || '-' || substr(id_hex, 13, 4) || '-'
        || substr(id_hex, 17, 4) || '-' || substr(id_hex, 21, 12) as event_id,
    session_date,
    bar_start_ns as ts_ns,
    bar_start_ns + {{ ns_per_minute() }} as available_ts_ns,
    level_kind,
    level_kind_name,
    level_price,
    level_e9,
    direction,
    case when direction = 'UP' then 1 else -1 end as direction_sign,
    {{ e9_to_spy('abs(close_e9 - level_e9)') }} as distance,
    close as spot,
    close_e9 as spot_e9,
    atr
from identified
order by ts_ns, level_kind
