{{ config(materialized='ephemeral') }}
-- Attempt clustering per touch event (SPEC §8; original_pipeline.md §8.4, with bug 12.2.6 fixed:
-- cluster ids are unique within the date). Grain: one row per event of int_touches__detected.
--   Events of one (level_kind, direction) in T0 order; an event starts a new cluster when it is the
--   first of its (kind, direction), or comes more than {{ attempt_cluster_minutes() }} min after the previous one (strict),
--   or its level moved more than {{ attempt_cluster_band() }} $ from the previous one's (strict, exact in 1e-9 ES points).
--   attempt_cluster_id   1, 2, ... over the date's clusters ordered by (first T0, level_kind, direction)
--   attempt_index        1, 2, ... within the cluster in T0 order
--   X_trend              X - X of the cluster's first event, for barrier_replenishment_ratio,
--                        barrier_delta_liq (int_physics__barrier), tape_velocity, tape_imbalance
--                        (int_physics__tape); NULL when X is NULL (no MBP-10 for the date)
-- Point in time: an event's cluster, index, id and trends depend only on events with T0' <= T0,
-- all decided by its t_dec (later clusters get larger ids, never renumbering earlier ones).
{%- set gap_ns = minutes_ns(attempt_cluster_minutes() | int) %}
{%- set band = spy_dollars_to_e9(attempt_cluster_band()) | int %}
{%- set tol = spy_dollars_to_e9(var('band_tolerance')) | int %}

with events as (
    select
        e.event_id,
        e.session_date,
        e.ts_ns,
        e.available_ts_ns,
        e.level_kind,
        e.direction,
        e.level_e9,
        b.barrier_replenishment_ratio,
        b.barrier_delta_liq,
        t.tape_velocity,
        t.tape_imbalance
    from {{ ref('int_touches__detected') }} as e
    left join {{ ref('int_physics__barrier') }} as b using (event_id)
    left join {{ ref('int_physics__tape') }} as t using (event_id)
),

starts as (
    select
        *,
        case
            when lag(ts_ns) over by_group is null then 1
            when ts_ns - lag(ts_ns) over by_group > {{ gap_ns }} then 1
            when abs(level_e9 - lag(level_e9) over by_group) > {{ band + tol }} then 1
            else 0
        end as starts_cluster
    from events
    window by_group as (partition by level_kind, direction order by ts_ns)
),

numbered as (
    select
        *,
        sum(starts_cluster) over (
            partition by level_kind, direction order by ts_ns rows between unbounded preceding and current row
        ) as group_cluster_no
    from starts
),

clusters as (
    -- one row per cluster, numbered across the date
    select
        level_kind,
        direction,
        group_cluster_no,
        row_number() over (order by min(ts_ns), level_kind, direction) as attempt_cluster_id
    from numbered
    group by level_kind, direction, group_cluster_no
),

in_cluster as (
    select
        n.*,
        c.attempt_cluster_id,
        row_number() over by_cluster as attempt_index,
        first_value(n.barrier_replenishment_ratio) over by_cluster as first_replenishment_ratio,
        first_value(n.barrier_delta_liq) over by_cluster as first_delta_liq,
        first_value(n.tape_velocity) over by_cluster as first_tape_velocity,
        first_value(n.tape_imbalance) over by_cluster as first_tape_imbalance
    from numbered as n
    inner join clusters as c using (level_kind, direction, group_cluster_no)
    window by_cluster as (
        partition by c.attempt_cluster_id order by n.ts_ns
        rows between unbounded preceding and current row
    )
)

select
    event_id,
    session_date,
    available_ts_ns,
    attempt_index::bigint as attempt_index,
    attempt_cluster_id::bigint as attempt_cluster_id,
    barrier_replenishment_ratio - first_replenishment_ratio as barrier_replenishment_trend,
    barrier_delta_liq - first_delta_liq as barrier_delta_liq_trend,
    tape_velocity - first_tape_velocity as tape_velocity_trend,
    tape_imbalance - first_tape_imbalance as tape_imbalance_trend
from in_cluster
order by ts_ns, level_kind
