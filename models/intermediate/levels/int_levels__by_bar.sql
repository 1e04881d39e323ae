-- The level universe per RTH 1-minute bar of the run date, long format (SPEC §5): one row per
-- (bar, level kind) whose level is defined as known at the bar's open T0 (data with ts < T0).
-- Walls come from int_levels__option_walls (empty until the option-walls issue fills it).

with session as (
    -- the run date's RTH clock
    select session_date, rth_open_ns, rth_close_ns
    from {{ ref('trading_calendar') }}
    where session_date = {{ run_date() }}
),

rth_bars as (
    -- the run date's RTH 1-minute bars (bars exist only for minutes with trades)
    select b.session_date, b.bar_start_ns
    from {{ ref('int_bars__es_1min') }} as b
    inner join session as s using (session_date)
    where b.bar_start_ns >= s.rth_open_ns and b.bar_start_ns < s.rth_close_ns
),

levels_at_open as (
    -- every level as known at T0 = the bar start
    select b.session_date, b.bar_start_ns, l.* exclude (session_date, asof_ns)
    from rth_bars as b
    inner join {{ ref('int_levels__as_of_minute') }} as l
        on l.session_date = b.session_date and l.asof_ns = b.bar_start_ns
),

walls_at_open as (
    -- CALL_WALL / PUT_WALL as known at T0, converted to 1e-9 ES points
    select
        b.session_date,
        b.bar_start_ns,
        {%- for k in wall_kinds() %}
        w.{{ k.wall }} * {{ var('es_spy_ratio') }} * 1e9 as {{ k.wall }}_e9{{ "," if not loop.last }}
        {%- endfor %}
    from rth_bars as b
    inner join {{ ref('int_levels__option_walls') }} as w
        on w.session_date = b.session_date and w.asof_ns = b.bar_start_ns
),

long_levels as (
    -- one row per (bar, kind) with a defined level
    {%- for k in level_kinds() %}
    select session_date, bar_start_ns, {{ k.code }} as level_kind, '{{ k.name }}' as level_kind_name,
        {{ k.column }}::double as level_e9
    from levels_at_open where {{ k.column }} is not null
    union all
    {%- endfor %}
    {%- for k in wall_kinds() %}
    select session_date, bar_start_ns, {{ k.code }}, '{{ k.name }}', {{ k.wall }}_e9
    from walls_at_open where {{ k.wall }}_e9 is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    session_date,
    bar_start_ns,
    level_kind::integer as level_kind,
    level_kind_name,
    level_e9,
    {{ e9_to_spy('level_e9') }} as level_price
from long_levels
order by bar_start_ns, level_kind
