-- Competing-risk labels at trade level (SPEC §6), one row per (touch event, confirmation window).
-- For window W: anchor t1 = T0 + W; the label window is front-month trades with
-- t1 <= ts <= t1 + lookforward_seconds. Threshold k beyond the level L is m_k x the event's ATR
-- (`label_threshold_unit` 'atr', m = `label_thresholds`) or m_k SPY $ ('dollars'), as a whole number
-- of 1e-9 ES points rounded up (macros/labels/label_windows.sql: exact, so comparisons are those of
-- the exact threshold): break side = price >= L + thr for UP (price <= L - thr for DOWN), bounce side
-- the opposite. Outcome uses the last (largest) threshold; see int_labels__by_event for columns.
--
-- Algorithm (no range join of events to trades): t1 and the window end are minute marks, so a
-- window is whole 1-minute buckets [t1, end) plus the trades stamped exactly at `end` (the "head"
-- of the bucket starting there). For each side and threshold:
--   1. the first bucket whose bar high (low) reaches the bound, from the 1-minute bars;
--   2. inside it, the first trade reaching the bound = an ASOF lookup in int_labels__minute_price_levels;
--   3. otherwise, the head trades at `end` if they reach it (time = lookforward_seconds).
-- Excursions use the bars' highs/lows plus the head; prices are compared in 1e-9 ES points.

{%- set windows = label_windows() %}
{%- set lookforward_ns = seconds_ns(var('lookforward_seconds') | int) %}
{%- set thresholds = label_thresholds() %}
{%- set n_thr = thresholds | length %}

with session_tape as (
    -- the run date's first and last front-month trade (UNDEFINED outside them)
    select min(ts_event_ns) as first_ts_ns, max(ts_event_ns) as last_ts_ns
    from {{ ref('stg_bronze__es_trades') }}
    where session_date = {{ run_date() }} and is_front_month
),

minute_bars as (
    -- the run date's 1-minute bars (front month, whole Globex day)
    select bar_start_ns, high_e9, low_e9, close_e9
    from {{ ref('int_bars__es_1min') }}
    where session_date = {{ run_date() }}
),

bucket_heads as (
    -- trades stamped exactly on a minute mark: the last instant of a window ending there
    select
        ts_event_ns as bucket_ns,
        max(price_e9) as head_high_e9,
        min(price_e9) as head_low_e9,
        arg_max(price_e9, {{ print_order_key() }}) as head_last_e9
    from {{ ref('stg_bronze__es_trades') }}
    where session_date = {{ run_date() }}
        and is_front_month
        and ts_event_ns % {{ ns_per_minute() }} = 0
    group by ts_event_ns
),

event_thresholds as (
    -- each event's bounds L + thr_k / L - thr_k in 1e-9 ES points (thr_k from the touch bar's ATR)
    select
        e.event_id,
        e.session_date,
        e.ts_ns,
        e.direction_sign,
        e.level_e9
        {%- for thr in thresholds %},
        {{ label_threshold_spy(thr, 'e.atr') }} as label_threshold_{{ thr.k }},
        e.level_e9 + {{ label_threshold_e9(thr, 'b.atr_range_sum_e9', 'b.atr_bar_count') }} as up_bound_{{ thr.k }},
        e.level_e9 - {{ label_threshold_e9(thr, 'b.atr_range_sum_e9', 'b.atr_bar_count') }} as down_bound_{{ thr.k }}
        {%- endfor %}
    from {{ ref('int_touches__detected') }} as e
    inner join {{ ref('int_bars__es_1min') }} as b
        on b.session_date = e.session_date and b.bar_start_ns = e.ts_ns
),

event_windows as (
    -- each event x confirmation window: anchor t1 and window end
    select
        e.* exclude (ts_ns),
        w.window_s,
        e.ts_ns + w.window_s * {{ ns_per_second() }} as t1_ns,
        e.ts_ns + w.window_s * {{ ns_per_second() }} + {{ lookforward_ns }} as end_ns
    from event_thresholds as e
    cross join (select unnest({{ windows }}::bigint[]) as window_s) as w
),

window_buckets as (
    -- the whole minutes [t1, end) of each window, with the window's bounds
    select
        event_id,
        window_s
        {%- for thr in thresholds %},
        up_bound_{{ thr.k }},
        down_bound_{{ thr.k }}
        {%- endfor %},
        unnest(range(t1_ns, end_ns, {{ ns_per_minute() }})) as bucket_ns
    from event_windows
),

window_bars as (
    -- per window: extremes of its whole minutes and the first minute reaching each bound
    select
        w.event_id,
        w.window_s,
        max(b.high_e9) as bars_high_e9,
        min(b.low_e9) as bars_low_e9,
        {%- for thr in thresholds %}
        min(w.bucket_ns) filter (where b.high_e9 >= w.up_bound_{{ thr.k }}) as up_bucket_{{ thr.k }},
        min(w.bucket_ns) filter (where b.low_e9 <= w.down_bound_{{ thr.k }}) as down_bucket_{{ thr.k }}{{ ',' if not loop.last }}
        {%- endfor %}
    from window_buckets as w
    inner join minute_bars as b on b.bar_start_ns = w.bucket_ns
    group by w.event_id, w.window_s
),

windows_with_tape as (
    -- each window with its bar statistics, its end head, and the prices at t1 and at the end
    select
        ew.*,
        wb.* exclude (event_id, window_s),
        he.head_high_e9 as end_head_high_e9,
        he.head_low_e9 as end_head_low_e9,
        coalesce(h1.head_last_e9, b1.close_e9) as anchor_e9,
        coalesce(he.head_last_e9, be.close_e9) as future_e9,
        st.first_ts_ns > ew.t1_ns or st.last_ts_ns < ew.end_ns or st.first_ts_ns is null as is_undefined
    from event_windows as ew
    cross join session_tape as st
    left join window_bars as wb on wb.event_id = ew.event_id and wb.window_s = ew.window_s
    left join bucket_heads as he on he.bucket_ns = ew.end_ns
    left join bucket_heads as h1 on h1.bucket_ns = ew.t1_ns
    asof left join minute_bars as b1 on ew.t1_ns > b1.bar_start_ns
    asof left join minute_bars as be on ew.end_ns > be.bar_start_ns
),

passage_targets as (
    -- one row per (window, threshold, side): the first minute reaching the bound and the ASOF key
    -- (side +1: price >= L + thr, key = L + thr; side -1: price <= L - thr, key = -(L - thr))
    {%- for thr in thresholds %}
    select event_id, window_s, {{ thr.k }} as k, 1 as side, up_bucket_{{ thr.k }} as bucket_ns,
        up_bound_{{ thr.k }} as key_e9, end_ns, end_head_high_e9 as end_head_key_e9
    from windows_with_tape
    union all
    select event_id, window_s, {{ thr.k }}, -1, down_bucket_{{ thr.k }},
        -down_bound_{{ thr.k }}, end_ns, -end_head_low_e9
    from windows_with_tape
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

passages as (
    -- first trade reaching each bound: inside the first qualifying minute, else at the end mark
    select
        t.event_id,
        t.window_s,
        t.k,
        t.side,
        coalesce(
            r.first_ts_ns,
            case when t.end_head_key_e9 >= t.key_e9 then t.end_ns end
        ) as first_ts_ns
    from passage_targets as t
    asof left join {{ ref('int_labels__minute_price_levels') }} as r
        on r.bucket_ns = t.bucket_ns and r.side = t.side and t.key_e9 <= r.key_e9
),

passage_times as (
    -- back to one row per window: first up / down crossing per threshold (int64 ns)
    select
        event_id,
        window_s,
        {%- for k in range(1, n_thr + 1) %}
        max(first_ts_ns) filter (where k = {{ k }} and side = 1) as up_ts_{{ k }},
        max(first_ts_ns) filter (where k = {{ k }} and side = -1) as down_ts_{{ k }}{{ ',' if not loop.last }}
        {%- endfor %}
    from passages
    group by event_id, window_s
),

sided as (
    -- break / bounce crossings and excursions beyond L on each side (1e-9 ES points)
    select
        w.event_id,
        w.session_date,
        w.window_s,
        w.t1_ns,
        w.is_undefined,
        w.anchor_e9,
        w.future_e9,
        {%- for k in range(1, n_thr + 1) %}
        case when w.direction_sign = 1 then p.up_ts_{{ k }} else p.down_ts_{{ k }} end as break_ts_{{ k }},
        case when w.direction_sign = 1 then p.down_ts_{{ k }} else p.up_ts_{{ k }} end as bounce_ts_{{ k }},
        {%- endfor %}
        greatest(coalesce(greatest(w.bars_high_e9, w.end_head_high_e9) - w.level_e9, 0), 0) as above_e9,
        greatest(coalesce(w.level_e9 - least(w.bars_low_e9, w.end_head_low_e9), 0), 0) as below_e9,
        w.direction_sign
        {%- for thr in thresholds %},
        w.label_threshold_{{ thr.k }}
        {%- endfor %}
    from windows_with_tape as w
    inner join passage_times as p on p.event_id = w.event_id and p.window_s = w.window_s
),

excursions as (
    -- break side = above for UP, below for DOWN
    select
        *,
        case when direction_sign = 1 then above_e9 else below_e9 end as excursion_max_e9,
        case when direction_sign = 1 then below_e9 else above_e9 end as excursion_min_e9
    from sided
),

labelled as (
    -- competing risks on the last threshold; a same-timestamp tie goes to the sign of strength
    select
        *,
        case
            when is_undefined then 'UNDEFINED'
            when break_ts_{{ n_thr }} is null and bounce_ts_{{ n_thr }} is null then 'CHOP'
            when bounce_ts_{{ n_thr }} is null or break_ts_{{ n_thr }} < bounce_ts_{{ n_thr }} then 'BREAK'
            when break_ts_{{ n_thr }} is null or bounce_ts_{{ n_thr }} < break_ts_{{ n_thr }} then 'BOUNCE'
            when excursion_max_e9 > excursion_min_e9 then 'BREAK'
            when excursion_max_e9 < excursion_min_e9 then 'BOUNCE'
            else 'CHOP'
        end as outcome
    from excursions
)

select
    event_id,
    session_date,
    window_s,
    {%- for thr in thresholds %}
    label_threshold_{{ thr.k }},
    {%- endfor %}
    outcome,
    case when not is_undefined then {{ e9_to_spy('excursion_max_e9') }} end as excursion_max,
    case when not is_undefined then {{ e9_to_spy('excursion_min_e9') }} end as excursion_min,
    case when not is_undefined then {{ e9_to_spy('(excursion_max_e9 - excursion_min_e9)') }} end as strength_signed,
    case when not is_undefined then {{ e9_to_spy('greatest(excursion_max_e9, excursion_min_e9)') }} end as strength_abs,
    {%- for k in range(1, n_thr + 1) %}
    case when not is_undefined then (least(break_ts_{{ k }}, bounce_ts_{{ k }}) - t1_ns) / 1e9 end as time_to_threshold_{{ k }},
    {%- endfor %}
    {%- for k in range(1, n_thr + 1) %}
    case when not is_undefined then (break_ts_{{ k }} - t1_ns) / 1e9 end as time_to_break_{{ k }},
    {%- endfor %}
    {%- for k in range(1, n_thr + 1) %}
    case when not is_undefined then (bounce_ts_{{ k }} - t1_ns) / 1e9 end as time_to_bounce_{{ k }},
    {%- endfor %}
    {%- for k in range(1, n_thr + 1) %}
    (not is_undefined and (break_ts_{{ k }} is not null or bounce_ts_{{ k }} is not null))::tinyint as tradeable_{{ k }},
    {%- endfor %}
    t1_ns as confirm_ts_ns,
    case when not is_undefined then {{ e9_to_spy('anchor_e9') }} end as anchor_spot,
    case when not is_undefined then {{ e9_to_spy('future_e9') }} end as future_price
from labelled
order by event_id, window_s
