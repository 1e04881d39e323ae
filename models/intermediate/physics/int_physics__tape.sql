-- Tape physics per touch event (SPEC §7.1): the run date's front-month ES prints in [T0, t_dec),
-- which is exactly the touch bar's minute (T0 = bar start, t_dec = T0 + 60 s).
-- Grain: one row per event of int_touches__detected.
--
--   tape_buy_vol / tape_sell_vol  contracts of aggressor +1 / -1 prints priced within the tape band
--                                 (+/- $0.50 SPY = +/- 5.00 ES points, inclusive + tolerance) of L
--   tape_imbalance                (buy - sell) / (buy + sell), 0 when both are 0
--   tape_velocity                 OLS slope of the SPY-frame price on time over every print of the
--                                 window, $/s; 0 with < 2 prints or no spread in time
--   sweep_detected                some run of consecutive same-side prints (side != 0; every gap
--                                 <= 100 ms, exactly 100 ms continues) covers >= 3 distinct prices
--                                 and >= sweep_min_contracts contracts
--
-- Velocity, the sweep and the print count depend only on the window, not on the level, so they are
-- computed once per minute that holds an event. The OLS slope is formed from exact integer sums
-- (time in ns since T0, price in 1e-9 ES points, HUGEINT) and divided once at the end, so it is
-- bit-identical across runs and thread counts.
{%- set band = spy_dollars_to_e9(0.50) | int %}
{%- set tol = spy_dollars_to_e9(var('band_tolerance')) | int %}
{%- set minute_ns = ns_per_minute() %}
{%- set sweep_gap_ns = 100000000 %}
{%- set sweep_min_prices = 3 %}
{%- set sweep_min_contracts = var('sweep_min_contracts') %}

with events as (
    select
        event_id,
        session_date,
        ts_ns as t0,
        available_ts_ns as t_dec,
        level_e9
    from {{ ref('int_touches__detected') }}
),

windows as (
    -- the distinct event windows; each is one whole minute [T0, T0 + 60 s)
    select distinct
        t0,
        case
            when t_dec = t0 + {{ minute_ns }} and t0 % {{ minute_ns }} = 0 then t_dec
            else error('int_physics__tape: event window is not one bar minute')
        end as t_dec
    from events
),

prints as (
    -- front-month prints inside an event window, numbered in (ts, seq) order within it
    select
        w.t0,
        t.ts_event_ns,
        t.price_e9,
        t.size,
        t.aggressor,
        row_number() over (
            partition by w.t0
            order by t.ts_event_ns, t.seq, t.ts_recv_ns, t.price_e9, t.size, t.aggressor
        ) as print_no
    from {{ ref('stg_bronze__es_trades') }} as t
    inner join windows as w
        on t.ts_event_ns // {{ minute_ns }} * {{ minute_ns }} = w.t0
    where t.session_date = {{ run_date() }}
        and t.is_front_month
        and t.ts_event_ns >= w.t0
        and t.ts_event_ns < w.t_dec
),

run_edges as (
    -- a print starts a new run when it is the window's first, changes side, has side 0, or comes
    -- more than {{ sweep_gap_ns // 1000000 }} ms after the previous print
    select
        *,
        case
            when lag(ts_event_ns) over w is null then 1
            when aggressor = 0 then 1
            when aggressor <> lag(aggressor) over w then 1
            when ts_event_ns - lag(ts_event_ns) over w > {{ sweep_gap_ns }} then 1
            else 0
        end as run_start
    from prints
    window w as (partition by t0 order by print_no)
),

runs as (
    select
        t0,
        sum(run_start) over (partition by t0 order by print_no rows between unbounded preceding and current row)
            as run_no,
        aggressor,
        price_e9,
        size
    from run_edges
),

sweeps as (
    -- the windows with at least one sweeping run (several runs of one window give one row)
    select distinct t0  -- noqa: AM01
    from runs
    where aggressor <> 0
    group by t0, run_no
    having count(distinct price_e9) >= {{ sweep_min_prices }}
        and sum(size) >= {{ sweep_min_contracts }}
),

ols as (
    -- exact sums: x = ns since T0 (< 6e10), y = price in 1e-9 ES points
    select
        t0,
        count(*)::hugeint as n,
        sum(ts_event_ns - t0)::hugeint as sx,
        sum(price_e9)::hugeint as sy,
        sum((ts_event_ns - t0)::hugeint * (ts_event_ns - t0)::hugeint) as sxx,
        sum((ts_event_ns - t0)::hugeint * price_e9::hugeint) as sxy
    from prints
    group by t0
),

window_stats as (
    -- slope in (1e-9 ES points) per ns = ES points per s; / es_spy_ratio = SPY $ per s
    select
        w.t0,
        coalesce(o.n, 0)::bigint as n_prints,
        case
            when o.n >= 2 and o.n * o.sxx - o.sx * o.sx > 0
                then ((o.n * o.sxy - o.sx * o.sy)::double / (o.n * o.sxx - o.sx * o.sx)::double)
                    / {{ var('es_spy_ratio') }}
            else 0.0
        end as tape_velocity,
        s.t0 is not null as sweep_detected
    from windows as w
    left join ols as o using (t0)
    left join sweeps as s using (t0)
),

near_level as (
    -- per event: prints of its window within the band around its level
    select
        e.event_id,
        coalesce(sum(p.size) filter (where p.aggressor = 1), 0)::bigint as buy_vol,
        coalesce(sum(p.size) filter (where p.aggressor = -1), 0)::bigint as sell_vol
    from events as e
    left join prints as p
        on p.t0 = e.t0
        and p.price_e9 between e.level_e9 - {{ band + tol }} and e.level_e9 + {{ band + tol }}
    group by e.event_id
)

select
    e.event_id,
    e.session_date,
    n.buy_vol as tape_buy_vol,
    n.sell_vol as tape_sell_vol,
    case
        when n.buy_vol + n.sell_vol > 0
            then (n.buy_vol - n.sell_vol)::double / (n.buy_vol + n.sell_vol)::double
        else 0.0
    end as tape_imbalance,
    w.tape_velocity,
    w.sweep_detected,
    w.n_prints as tape_n_prints
from events as e
inner join near_level as n using (event_id)
inner join window_stats as w using (t0)
order by e.event_id
