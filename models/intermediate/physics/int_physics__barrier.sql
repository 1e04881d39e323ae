-- Barrier physics per touch event (SPEC §7.2): the defending side's resting liquidity in the zone
-- L +/- 8 ES ticks over the 250 ms snapshots of [t_dec - 240 s, t_dec), t_dec = available_ts_ns.
-- Grain: one row per event of int_touches__detected.
--
--   depth(snapshot)  = sum of the defending side's sizes priced in the zone (ask for UP, bid for DOWN);
--                      zone = [level_e9 - 2.00 pts - tol, level_e9 + 2.00 pts + tol] in exact 1e-9 ES points
--   consecutive pair = a rise adds; a fall is filled by the front-month trades priced in the zone that
--                      hit the defending side (buys for UP, sells for DOWN) with prev.ts < ts <= curr.ts,
--                      capped at the fall; the rest of the fall is canceled
--   wall_ratio       = last depth / mean size of every non-empty book level (both sides) over the
--                      snapshots in [t_dec - 30 min, t_dec); 0 when there is none
--   barrier_state    bb_barrier_state (python_udfs/barrier.py), first match of SPEC §7.2's table with
--                    the contract counts as multiples of the size scale s = the wall_ratio denominator
--                    (barrier_*_scale vars), compared exactly in integers: every size x 10 keeps it
-- With fewer than 2 snapshots in the window: NEUTRAL and zeros. Without MBP-10 for the date
-- (bb_has_mbp10 false): every barrier column NULL.
--
-- Point in time: snapshots and trades all have ts < t_dec. t_dec is T0 + 60 s, on a minute (checked
-- below) and so on a 250 ms bucket boundary: every bucket lies wholly before or wholly after it, and
-- the day-wide snapshot table is exactly the per-event "last record per bucket among records before
-- t_dec".
--
-- Set-based: events x snapshots in window (~960 per event) carry one depth each (a 10-term CASE sum
-- over one side); lag() gives the pair; only falling pairs look up fills, from the prints that
-- int_book__trade_fills assigned to the snapshot closing their interval (one ASOF join, built
-- before any event exists) and summed per (snapshot, aggressor, price). All quantities are integer contracts until the final ratios, so the result
-- does not depend on thread count or row order.
{%- set zone = barrier_zone_e9() %}
{%- set tol = spy_dollars_to_e9(var('band_tolerance')) | int %}
{%- set window_ns = barrier_window_ns() %}
{%- set lookback_ns = barrier_wall_lookback_ns() %}
{%- set minute_ns = ns_per_minute() %}

with events as (
    select
        event_id,
        session_date,
        case
            when available_ts_ns % {{ minute_ns }} = 0 then available_ts_ns
            else error('int_physics__barrier: t_dec is not on a minute boundary: ' || event_id)
        end as t_dec,
        direction = 'UP' as is_up,
        level_e9 - {{ zone + tol }} as zone_lo_e9,
        level_e9 + {{ zone + tol }} as zone_hi_e9,
        row_number() over (order by event_id) as event_no
    from {{ ref('int_touches__detected') }}
),

snapshots as (
    select * from {{ ref('int_book__snapshots_250ms') }}
),

event_snapshots as (
    -- every snapshot in each event's window, with the zone depth of the defending side
    select
        e.event_no,
        s.bucket_start_ns,
        s.snapshot_ts_ns,
        case when e.is_up then
            {%- for i in range(1, 11) %}
            coalesce(case when s.ask_px_e9_{{ i }} between e.zone_lo_e9 and e.zone_hi_e9 then s.ask_sz_{{ i }} end, 0){{ " +" if not loop.last }}
            {%- endfor %}
        else
            {%- for i in range(1, 11) %}
            coalesce(case when s.bid_px_e9_{{ i }} between e.zone_lo_e9 and e.zone_hi_e9 then s.bid_sz_{{ i }} end, 0){{ " +" if not loop.last }}
            {%- endfor %}
        end::bigint as depth
    from events as e
    cross join range({{ window_ns // minute_ns }}) as m (minutes_back)
    inner join snapshots as s
        -- an equi-join on the snapshot's minute (t_dec is on a minute) rather than a range join:
        -- a hash join of 4 minutes x ~240 snapshots per event, then the exact window test (written
        -- as one difference so that the planner keeps it a filter)
        on s.snapshot_ts_ns // {{ minute_ns }} = e.t_dec // {{ minute_ns }} - 1 - m.minutes_back
    where s.snapshot_ts_ns - e.t_dec >= -{{ window_ns }}
        and s.snapshot_ts_ns - e.t_dec < 0
),

pairs as (
    -- each snapshot with the depth of the previous snapshot in the same event window
    select
        event_no,
        bucket_start_ns,
        snapshot_ts_ns,
        depth,
        lag(depth) over (partition by event_no order by snapshot_ts_ns) as prev_depth
    from event_snapshots
),

trade_fills as (
    -- front-month prints with a side, already assigned to the snapshot that closes their interval
    -- and summed per (snapshot, side, price)
    select bucket_start_ns, aggressor, price_e9, size
    from {{ ref('int_book__trade_fills') }}
),

falls as (
    -- falling pairs, with the volume that hit the defending side in the zone between the two
    select
        p.event_no,
        p.prev_depth - p.depth as fall,
        coalesce(sum(f.size), 0)::bigint as hit_volume
    from pairs as p
    inner join events as e using (event_no)
    left join trade_fills as f
        on f.bucket_start_ns = p.bucket_start_ns
        and f.aggressor = case when e.is_up then 1 else -1 end
        and f.price_e9 between e.zone_lo_e9 and e.zone_hi_e9
    where p.depth < p.prev_depth
    group by p.event_no, p.bucket_start_ns, p.prev_depth, p.depth
),

fall_totals as (
    select
        event_no,
        sum(least(fall, hit_volume))::bigint as filled,
        sum(fall - least(fall, hit_volume))::bigint as canceled
    from falls
    group by event_no
),

window_totals as (
    select
        event_no,
        count(*)::bigint as n_snapshots,
        coalesce(sum(greatest(depth - prev_depth, 0)), 0)::bigint as added,
        arg_max(depth, snapshot_ts_ns)::bigint as last_depth
    from pairs
    group by event_no
),

minute_level_totals as (
    -- level sizes and counts of every snapshot summed per minute, with running sums over the day:
    -- t_dec and t_dec - 30 min are minute marks, so the snapshots in [t_dec - 30 min, t_dec) are
    -- exactly those of the minutes in between (two ASOF lookups in ~400 rows)
    select
        snapshot_minute,
        (sum(size_sum) over by_minute)::bigint as cum_level_size_sum,
        (sum(level_count) over by_minute)::bigint as cum_level_count
    from (
        select
            snapshot_ts_ns // {{ minute_ns }} as snapshot_minute,
            sum(level_size_sum) as size_sum,
            sum(level_count) as level_count
        from snapshots
        group by 1
    )
    window by_minute as (order by snapshot_minute rows between unbounded preceding and current row)
),

wall_lookback as (
    -- level-size sums over the snapshots before t_dec minus those before t_dec - 30 min
    select
        e.event_no,
        coalesce(now_.cum_level_size_sum, 0) - coalesce(then_.cum_level_size_sum, 0) as lookback_size_sum,
        coalesce(now_.cum_level_count, 0) - coalesce(then_.cum_level_count, 0) as lookback_level_count
    from events as e
    asof left join minute_level_totals as now_
        on e.t_dec // {{ minute_ns }} > now_.snapshot_minute
    asof left join minute_level_totals as then_
        on (e.t_dec - {{ lookback_ns }}) // {{ minute_ns }} > then_.snapshot_minute
),

metrics as (
    select
        e.event_id,
        e.session_date,
        coalesce(w.n_snapshots, 0) as n_snapshots,
        coalesce(w.n_snapshots, 0) >= 2 as has_window,
        case when has_window then w.added else 0 end as added,
        case when has_window then coalesce(f.canceled, 0) else 0 end as canceled,
        case when has_window then coalesce(f.filled, 0) else 0 end as filled,
        case when has_window then w.last_depth else 0 end as depth,
        case when l.lookback_level_count > 0 then l.lookback_size_sum / l.lookback_level_count end
            as mean_level_size,
        coalesce(l.lookback_size_sum, 0)::bigint as scale_size_sum,
        coalesce(l.lookback_level_count, 0)::bigint as scale_level_count
    from events as e
    left join window_totals as w using (event_no)
    left join fall_totals as f using (event_no)
    left join wall_lookback as l using (event_no)
),

final as (
    select
        event_id,
        session_date,
        getvariable('bb_has_mbp10') as has_book,
        n_snapshots,
        added,
        canceled,
        filled,
        (added - canceled - filled)::double as delta_liq,
        case when has_window then added / (canceled + filled + 1e-6) else 0.0 end as replenishment_ratio,
        depth,
        case when has_window and mean_level_size > 0 then depth / mean_level_size else 0.0 end as wall_ratio,
        mean_level_size,
        scale_size_sum,
        scale_level_count
    from metrics
)

select
    event_id,
    session_date,
    case when has_book then
        bb_barrier_state(
            added, canceled, filled, depth, n_snapshots, scale_size_sum, scale_level_count,
            {{ barrier_state_thresholds() }}
        )
    end as barrier_state,
    case when has_book then delta_liq end as barrier_delta_liq,
    case when has_book then replenishment_ratio end as barrier_replenishment_ratio,
    case when has_book then depth end as depth_in_zone,
    case when has_book then wall_ratio end as wall_ratio,
    case when has_book then added end as barrier_added,
    case when has_book then canceled end as barrier_canceled,
    case when has_book then filled end as barrier_filled,
    case when has_book then n_snapshots end as barrier_n_snapshots,
    case when has_book then mean_level_size end as barrier_mean_level_size
from final
order by event_id
