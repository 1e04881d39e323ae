-- Which input windows of each touch event overlap a Bronze gap the run was allowed to proceed over
-- (`--allow-gaps`, SPEC §12): one boolean per window family, all false without gaps.
-- fct_touch_signals drops the events whose own level was computed over a gap (gap_level) and NULLs
-- (labels: UNDEFINED) every column whose families overlap one (macros/quality/gaps.sql lists the
-- columns). A gap is a missing UTC hour [start_ns, end_ns) of ES trades (the run date or a warmup
-- session) or of the run date's MBP-10; [a, b) overlaps it when start_ns < b and end_ns > a.
-- Windows (t0 = T0, t_dec = T0 + 60 s; docs/decisions.md "Input and planning"):
--   level         the event's level as known at T0: PM [04:00, 09:30), OR [09:30, 09:45),
--                 SESSION / VWAP / walls [09:30, T0), SMA_N its last N 2-min bars closed by T0
--   pm, or        the pre-market [04:00, 09:30) and the opening range [09:30, min(09:45, t_dec))
--   rth           everything cumulative from the open: [09:30, t_dec)
--   smaN          the last N 2-min bars (warmup sessions included) closed by t_dec - 20 min
--                 (the slopes' earliest point), through t_dec
--   bars          the recent 1-min bars: the 21 bars through the touch bar (ATR's 14 true ranges,
--                 the close volatility's 20 changes) and (T0 - 10 min, T0] (approach)
--   tape          [T0, t_dec)
--   book          MBP-10 over [t_dec - 30 min, t_dec) (wall_ratio), ES prints over [t_dec - 240 s,
--                 t_dec) (the fills); book_cluster: the book window of the first event of the
--                 event's attempt cluster (the barrier trends subtract its values)
--   options       ES prints over [09:30, t_dec): the as-of spot, IV, basis and dealer gamma of every
--                 option print (positions are cumulative)
--   rel_vol       [09:30, t_dec) of the run date and the same clock span of each volume session
--   labels        the bars above (ATR thresholds) through T0 + max(confirmation_windows) +
--                 lookforward_seconds
{%- set horizon_ns = ((label_windows() | max) + (var('lookforward_seconds') | int)) * ns_per_second() %}

with gaps as (
    select * from {{ run_gaps() }}
),

session as (
    select session_date, pm_open_ns, rth_open_ns, or_close_ns, globex_open_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

events as (
    select
        e.event_id,
        e.level_kind_name,
        e.ts_ns as t0_ns,
        e.ts_ns + {{ ns_per_minute() }} as t_dec_ns,
        s.pm_open_ns,
        s.rth_open_ns,
        s.or_close_ns,
        s.globex_open_ns
    from {{ ref('int_touches__detected') }} as e
    cross join session as s
    -- without gaps (every ordinary run) nothing below has rows to work on
    where exists (select 1 from gaps)
),

recent_bars as (
    -- per run-date 1-min bar: the start of the bar 20 bars earlier (21 bars through this one)
    select bar_start_ns, lag(bar_start_ns, 20) over (order by bar_start_ns) as from_ns
    from {{ ref('int_bars__es_1min') }}
    where session_date = {{ run_date() }} and exists (select 1 from gaps)
),

sma_bars as (
    -- per 2-min bar close (warmup sessions first): the start of the oldest of the last 200 / 400 bars
    select
        bar_start_ns + {{ minutes_ns(2) }} as closed_ns,
        coalesce(lag(bar_start_ns, 199) over by_start, min(bar_start_ns) over ()) as from_200_ns,
        coalesce(lag(bar_start_ns, 399) over by_start, min(bar_start_ns) over ()) as from_400_ns
    from {{ ref('int_bars__es_2min') }}
    where exists (select 1 from gaps)
    window by_start as (order by bar_start_ns)
),

windows as (
    select
        e.*,
        least(coalesce(b.from_ns, e.globex_open_ns), e.t0_ns - {{ minutes_ns(10) }}) as bars_from_ns,
        coalesce(at_t0.from_200_ns, e.globex_open_ns) as sma200_t0_from_ns,
        coalesce(at_t0.from_400_ns, e.globex_open_ns) as sma400_t0_from_ns,
        coalesce(at_slope.from_200_ns, e.globex_open_ns) as sma200_from_ns,
        coalesce(at_slope.from_400_ns, e.globex_open_ns) as sma400_from_ns
    from events as e
    asof left join recent_bars as b on b.bar_start_ns <= e.t0_ns
    asof left join sma_bars as at_t0 on at_t0.closed_ns <= e.t0_ns
    asof left join sma_bars as at_slope on at_slope.closed_ns <= e.t_dec_ns - {{ minutes_ns(20) }}
),

level_windows as (
    select
        *,
        case
            when level_kind_name in ('PM_HIGH', 'PM_LOW') then pm_open_ns
            when level_kind_name = 'SMA_200' then sma200_t0_from_ns
            when level_kind_name = 'SMA_400' then sma400_t0_from_ns
            else rth_open_ns
        end as level_from_ns,
        case
            when level_kind_name in ('PM_HIGH', 'PM_LOW') then rth_open_ns
            when level_kind_name in ('OR_HIGH', 'OR_LOW') then or_close_ns
            else t0_ns
        end as level_to_ns
    from windows
),

flags as (
    -- one pass over events x gaps (a handful of gaps): each flag is "some gap overlaps the window"
    select
        w.event_id,
        any_value(w.t0_ns) as t0_ns,
        {{ gap_overlaps('es_trades', 'w.level_from_ns', 'w.level_to_ns') }} as gap_level,
        {{ gap_overlaps('es_trades', 'w.pm_open_ns', 'w.rth_open_ns') }} as gap_pm,
        {{ gap_overlaps('es_trades', 'w.rth_open_ns', 'least(w.or_close_ns, w.t_dec_ns)') }} as gap_or,
        {{ gap_overlaps('es_trades', 'w.rth_open_ns', 'w.t_dec_ns') }} as gap_rth,
        {{ gap_overlaps('es_trades', 'w.sma200_from_ns', 'w.t_dec_ns') }} as gap_sma200,
        {{ gap_overlaps('es_trades', 'w.sma400_from_ns', 'w.t_dec_ns') }} as gap_sma400,
        {{ gap_overlaps('es_trades', 'w.bars_from_ns', 'w.t_dec_ns') }} as gap_bars,
        {{ gap_overlaps('es_trades', 'w.t0_ns', 'w.t_dec_ns') }} as gap_tape,
        {{ gap_overlaps('es_mbp10', 'w.t_dec_ns - ' ~ barrier_wall_lookback_ns(), 'w.t_dec_ns') }}
            or {{ gap_overlaps('es_trades', 'w.t_dec_ns - ' ~ barrier_window_ns(), 'w.t_dec_ns') }} as gap_book,
        {{ gap_overlaps('es_trades', 'w.rth_open_ns', 'w.t_dec_ns') }} as gap_options,
        -- relative volume: the clock span from the open, on the run date and on every volume session
        coalesce(bool_or(g.table_name = 'es_trades' and g.session_date in {{ run_sessions('volume') }}
            and g.start_ns - c.rth_open_ns < w.t_dec_ns - w.rth_open_ns and g.end_ns - c.rth_open_ns > 0),
            false) as gap_rel_vol,
        {{ gap_overlaps('es_trades', 'w.bars_from_ns', 'w.t0_ns + ' ~ horizon_ns ~ ' + 1') }} as gap_labels
    from level_windows as w
    cross join gaps as g
    inner join {{ ref('trading_calendar') }} as c on c.session_date = g.session_date
    group by w.event_id
)

select
    e.event_id,
    coalesce(f.gap_level, false) as gap_level,
    coalesce(f.gap_pm, false) as gap_pm,
    coalesce(f.gap_or, false) as gap_or,
    coalesce(f.gap_rth, false) as gap_rth,
    coalesce(f.gap_sma200, false) as gap_sma200,
    coalesce(f.gap_sma400, false) as gap_sma400,
    coalesce(f.gap_bars, false) as gap_bars,
    coalesce(f.gap_tape, false) as gap_tape,
    coalesce(f.gap_book, false) as gap_book,
    -- the book window of the attempt cluster's first event (one event per bar in a cluster)
    coalesce(first_value(f.gap_book) over (partition by c.attempt_cluster_id order by e.ts_ns), false)
        as gap_book_cluster,
    coalesce(f.gap_options, false) as gap_options,
    coalesce(f.gap_rel_vol, false) as gap_rel_vol,
    coalesce(f.gap_labels, false) as gap_labels
from {{ ref('int_touches__detected') }} as e
left join flags as f using (event_id)
left join {{ ref('int_context__features') }} as c using (event_id)
