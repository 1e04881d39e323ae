-- Fuel physics per touch event (SPEC §7.3; dealer-flow velocity per physics reference §6.6), all
-- evaluated at the decision time t_dec = available_ts_ns (a minute mark) from option prints and ES
-- trades with ts < t_dec. Strikes are "in range" of the event when their mapped strike
-- K + option_basis(t_dec) is within ±{{ fuel_strike_range() }} $ of the level (inclusive).
--   gamma_exposure  dealer gamma at t_dec (int_options__dealer_gamma) of the in-range contracts:
--                   sum of dealer_position x the contract's share-gamma in exact 1e-9 units
--                   (fuel_unit_gamma_e9), / 1e9
--   fuel_effect     bb_fuel_effect: AMPLIFY when gamma_exposure < -c x g, DAMPEN when > +c x g, else
--                   NEUTRAL, g = the median gamma scale at t_dec (int_options__gamma_scale: |dealer
--                   gamma near spot| over the earlier minute marks), c = fuel_effect_scale; NEUTRAL
--                   until the scale has fuel_gamma_scale_min_marks marks. Exact integer comparisons,
--                   so every option size x 10 keeps it.
--   option_basis    the strike basis at t_dec
--   F(a, b)         sum of dealer_flow of in-range prints (both rights) with a <= ts < b
--   gamma_flow_velocity   F(t - W, t) / W                       W = {{ fuel_flow_window_minutes() }} min
--   gamma_flow_impulse    (velocity - base) / |base|, 0 if |base| <= 1e-6, base = F(t - B, t) / B, B = {{ fuel_flow_baseline_minutes() }} min
--   gamma_flow_accel_1m   F(t - S, t) / S - F(t - 2S, t - S) / S S = {{ fuel_flow_accel_short_minutes() }} min
--   gamma_flow_accel_3m   F(t - L, t) / L - F(t - 2L, t - L) / L L = {{ fuel_flow_accel_long_minutes() }} min
--   dealer_pressure       tanh(-velocity / {{ fuel_flow_norm() }});  dealer_pressure_accel = tanh(-accel_1m / {{ fuel_flow_norm() }})
-- Every column is NULL when the run date has no option print before t_dec (no options file at all,
-- or none yet). Sums run in exact integers of 1e-6 share-gamma (order-independent), and F uses
-- per-strike running totals at minute ends looked up by ASOF JOIN (no per-event scans).

{%- set w = fuel_flow_window_minutes() | int %}
{%- set b = fuel_flow_baseline_minutes() | int %}
{%- set s = fuel_flow_accel_short_minutes() | int %}
{%- set l = fuel_flow_accel_long_minutes() | int %}
{%- set offsets = ([0, w, b, s, 2 * s, l, 2 * l] | unique | sort) %}
{%- set tol = fuel_tolerance() %}

with events as (
    select event_id, session_date, available_ts_ns as t_dec_ns, level_price
    from {{ ref('int_touches__detected') }}
),

first_print as (
    -- the end of the minute of the date's first option print: a t_dec at or after it has prints before it
    select min(end_ns) as first_print_end_ns
    from {{ ref('int_options__contract_minutes') }}
),

event_state as (
    -- the basis at t_dec, and whether any option print precedes t_dec
    select
        e.*,
        m.option_basis,
        coalesce(f.first_print_end_ns <= e.t_dec_ns, false) as has_options
    from events as e
    cross join first_print as f
    left join {{ ref('int_options__basis_by_minute') }} as m
        on m.asof_ns = e.t_dec_ns
),

exposure as (
    -- dealer gamma at t_dec of the in-range contracts with an open position (1e-9 share-gamma)
    select
        e.event_id,
        sum(g.dealer_position::hugeint * {{ fuel_unit_gamma_e9('g') }}) as gamma_exposure_e9
    from event_state as e
    inner join {{ ref('int_options__dealer_gamma') }} as g
        on g.asof_ns = e.t_dec_ns
        and abs(g.mapped_strike - e.level_price) <= {{ fuel_strike_range() }} + {{ tol }}
    where e.has_options
    group by e.event_id
),

strike_minutes as (
    -- dealer flow per strike (both rights) and minute, keyed by the minute's end
    select strike, end_ns, sum(dealer_flow_micro) as flow_micro
    from {{ ref('int_options__contract_minutes') }}
    group by all
),

strike_running as (
    -- flow of the strike's prints with ts < end_ns
    select
        strike,
        end_ns,
        sum(flow_micro) over (
            partition by strike order by end_ns rows between unbounded preceding and current row
        ) as cum_flow_micro
    from strike_minutes
),

event_strikes as (
    -- strikes (real) whose mapped strike at t_dec is in range of the level
    select e.event_id, e.t_dec_ns, k.strike
    from event_state as e
    inner join (select distinct strike from strike_minutes) as k
        on abs(k.strike + e.option_basis - e.level_price) <= {{ fuel_strike_range() }} + {{ tol }}
    where e.has_options
),

lookup_points as (
    -- each in-range strike at t_dec - offset, for every offset the windows need (minutes)
    select es.event_id, es.strike, o.offset_min, es.t_dec_ns - o.offset_min * {{ ns_per_minute() }} as at_ns
    from event_strikes as es
    cross join (values {% for o in offsets %}({{ o }}){{ ", " if not loop.last }}{% endfor %}) as o (offset_min)
),

lookups as (
    -- the strike's running flow at that point (0 before its first print)
    select
        p.event_id,
        p.offset_min,
        coalesce(r.cum_flow_micro, 0) as cum_flow_micro
    from lookup_points as p
    asof left join strike_running as r
        on r.strike = p.strike and p.at_ns >= r.end_ns
),

running_at as (
    -- per event: running flow over its in-range strikes at each offset (1e-6 share-gamma)
    select
        event_id
        {%- for o in offsets %},
        coalesce(sum(cum_flow_micro) filter (where offset_min = {{ o }}), 0) as c{{ o }}
        {%- endfor %}
    from lookups
    group by event_id
),

windows as (
    -- F over each window, share-gamma
    select
        e.event_id,
        {{ fuel_from_micro('coalesce(r.c0 - r.c' ~ w ~ ', 0)') }} as flow_window,
        {{ fuel_from_micro('coalesce(r.c0 - r.c' ~ b ~ ', 0)') }} as flow_baseline,
        {{ fuel_from_micro('coalesce(r.c0 - r.c' ~ s ~ ', 0)') }} as flow_short_now,
        {{ fuel_from_micro('coalesce(r.c' ~ s ~ ' - r.c' ~ (2 * s) ~ ', 0)') }} as flow_short_prev,
        {{ fuel_from_micro('coalesce(r.c0 - r.c' ~ l ~ ', 0)') }} as flow_long_now,
        {{ fuel_from_micro('coalesce(r.c' ~ l ~ ' - r.c' ~ (2 * l) ~ ', 0)') }} as flow_long_prev
    from event_state as e
    left join running_at as r using (event_id)
    where e.has_options
),

velocity as (
    select
        event_id,
        flow_window / {{ w }} as gamma_flow_velocity,
        flow_baseline / {{ b }} as flow_baseline_rate,
        flow_short_now / {{ s }} - flow_short_prev / {{ s }} as gamma_flow_accel_1m,
        flow_long_now / {{ l }} - flow_long_prev / {{ l }} as gamma_flow_accel_3m
    from windows
),

joined as (
    select
        e.event_id,
        e.session_date,
        e.t_dec_ns,
        e.has_options,
        case when e.has_options then e.option_basis end as option_basis,
        case when e.has_options then coalesce(x.gamma_exposure_e9, 0)::bigint end as gamma_exposure_e9,
        v.gamma_flow_velocity,
        case
            when abs(v.flow_baseline_rate) > 1e-6
                then (v.gamma_flow_velocity - v.flow_baseline_rate) / abs(v.flow_baseline_rate)
            when e.has_options then 0.0
        end as gamma_flow_impulse,
        v.gamma_flow_accel_1m,
        v.gamma_flow_accel_3m
    from event_state as e
    left join exposure as x using (event_id)
    left join velocity as v using (event_id)
),

with_scale as (
    -- the gamma scale as known at t_dec
    select
        j.*,
        s.n_scale_marks,
        coalesce(s.scale_lo_e9, 0) as scale_lo_e9,
        coalesce(s.scale_hi_e9, 0) as scale_hi_e9
    from joined as j
    left join {{ ref('int_options__gamma_scale') }} as s
        on s.asof_ns = j.t_dec_ns
)

select
    event_id,
    session_date,
    t_dec_ns as available_ts_ns,
    gamma_exposure_e9 / 1e9 as gamma_exposure,
    bb_fuel_effect(
        gamma_exposure_e9, n_scale_marks, scale_lo_e9, scale_hi_e9, {{ fuel_effect_thresholds() }}
    ) as fuel_effect,
    n_scale_marks as gamma_scale_marks,
    (scale_lo_e9 + scale_hi_e9) / 2e9 as gamma_scale,
    option_basis,
    gamma_flow_velocity,
    gamma_flow_impulse,
    gamma_flow_accel_1m,
    gamma_flow_accel_3m,
    tanh(-gamma_flow_velocity / {{ fuel_flow_norm() }}) as dealer_pressure,
    tanh(-gamma_flow_accel_1m / {{ fuel_flow_norm() }}) as dealer_pressure_accel
from with_scale
order by t_dec_ns, event_id
