-- Relative volume per touch event (SPEC §4), evaluated at the decision time t_dec = T0 + 60 s:
--     rel_vol_ratio = cumulative front-month RTH volume of the run date from 09:30 to t_dec
--                   / mean over the prior volume sessions of their cumulative RTH volume from
--                     their own 09:30 to the same clock offset (open + (t_dec - open of D)).
-- Prior sessions = the plugin's volume sessions (earlier sessions with Bronze, up to
-- volume_lookback_sessions) minus the run date. A prior session's cumulation stops at its own
-- close (early closes) and counts 0 if it had no RTH trades by then. NULL with no prior session
-- or a zero mean. t_dec is minute-aligned, so whole 1-minute bars are summed (ts < t_dec).

with volume_sessions as (
    -- the run date and its prior volume sessions, with their RTH clock
    select session_date, rth_open_ns, rth_close_ns, session_date = {{ run_date() }} as is_run_date
    from {{ ref('trading_calendar') }}
    where session_date in {{ run_sessions('volume') }}
),

cumulative_volume as (
    -- per session, cumulative RTH volume through the end of each 1-minute bar, by offset from 09:30
    select
        b.session_date,
        b.bar_start_ns + {{ ns_per_minute() }} - s.rth_open_ns as offset_end_ns,
        sum(b.volume) over (
            partition by b.session_date order by b.bar_start_ns
            rows between unbounded preceding and current row
        ) as cum_volume
    from {{ ref('int_bars__es_1min') }} as b
    inner join volume_sessions as s using (session_date)
    where b.bar_start_ns >= s.rth_open_ns and b.bar_start_ns < s.rth_close_ns
),

event_offsets as (
    -- each event's t_dec as an offset from the run date's 09:30
    select e.event_id, e.session_date, e.available_ts_ns - s.rth_open_ns as offset_ns
    from {{ ref('int_touches__detected') }} as e
    inner join volume_sessions as s using (session_date)
),

event_sessions as (
    -- every event paired with the run date and each prior session
    select o.event_id, o.offset_ns, s.session_date, s.is_run_date
    from event_offsets as o
    cross join volume_sessions as s
),

event_cum_volume as (
    -- cumulative volume of each session up to the event's offset
    select
        es.event_id,
        es.is_run_date,
        coalesce(c.cum_volume, 0) as cum_volume
    from event_sessions as es
    asof left join cumulative_volume as c
        on c.session_date = es.session_date and es.offset_ns >= c.offset_end_ns
),

per_event as (
    -- the run date's cumulation against the prior sessions' mean
    select
        event_id,
        max(cum_volume) filter (where is_run_date)::bigint as cum_volume,
        count(*) filter (where not is_run_date)::integer as n_prior_sessions,
        avg(cum_volume) filter (where not is_run_date)::double as prior_mean_cum_volume
    from event_cum_volume
    group by event_id
)

select
    e.event_id,
    e.session_date,
    p.cum_volume,
    p.n_prior_sessions,
    p.prior_mean_cum_volume,
    case when p.prior_mean_cum_volume > 0 then p.cum_volume / p.prior_mean_cum_volume end as rel_vol_ratio
from {{ ref('int_touches__detected') }} as e
inner join per_event as p using (event_id)
order by e.ts_ns, e.level_kind
