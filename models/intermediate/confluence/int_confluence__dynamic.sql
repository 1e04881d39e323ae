{{ config(materialized='ephemeral') }}
-- Dynamic confluence per touch event (SPEC §8; original_pipeline.md §7.1-7.2): how many other key
-- levels, as known at the decision time t_dec = available_ts_ns, sit near the event's level L.
-- Grain: one row per event of int_touches__detected.
--   keys        the other level kinds ({% for k in confluence_keys() %}{{ k.name }} {{ k.confluence_weight }}{{ ", " if not loop.last }}{% endfor %}; total {{ confluence_total_weight() }}),
--               valued at t_dec (int_levels__as_of_minute, int_levels__option_walls); the event's own
--               kind is excluded (its value at t_dec may have moved since T0); undefined keys skipped
--   d_k         |value_k - L|, SPY $ (computed in 1e-9 ES points)
--   confluence_min_distance    min d_k over the defined other keys (no band); NULL if none
--   confluence_count           number of keys with d_k <= {{ confluence_band() }} (inclusive, 1e-9 tolerance)
--   confluence_weighted_score  sum over those keys of weight_k x (1 - d_k / {{ confluence_band() }})
--   confluence_pressure        confluence_weighted_score / {{ confluence_total_weight() }}
--   confluence_alignment       int8; with sma_200, sma_400 and their 20-min slopes all defined
--                              (int_context__mean_reversion), else 0: below_both = L < both SMAs,
--                              above_both = L > both, neg / pos = both slopes < 0 / > 0, ss = slope_200 - slope_400;
--                              UP: +1 if below_both & neg & ss > 0, -1 if above_both & pos & ss < 0;
--                              DOWN: +1 if above_both & pos & ss > 0, -1 if below_both & neg & ss < 0; else 0
-- Deterministic: the sums are fixed-order expressions over the keys (no aggregate over rows).
{%- set band_e9 = spy_dollars_to_e9(confluence_band()) | int %}
{%- set tol = spy_dollars_to_e9(var('band_tolerance')) | int %}
{%- set ratio = var('es_spy_ratio') %}

with events as (
    select event_id, session_date, available_ts_ns, level_kind, level_e9, direction
    from {{ ref('int_touches__detected') }}
),

at_decision as (
    -- every key's value at t_dec in 1e-9 ES points (walls: SPY $ x ratio x 1e9, as int_levels__by_bar)
    select
        e.*,
        {%- for k in confluence_keys() %}
        {%- if k.column is defined %}
        l.{{ k.column }}::double as v_{{ k.code }},
        {%- else %}
        w.{{ k.wall }} * {{ ratio }} * 1e9 as v_{{ k.code }},
        {%- endif %}
        {%- endfor %}
    from events as e
    left join {{ ref('int_levels__as_of_minute') }} as l
        on l.session_date = e.session_date and l.asof_ns = e.available_ts_ns
    left join {{ ref('int_levels__option_walls') }} as w
        on w.session_date = e.session_date and w.asof_ns = e.available_ts_ns
),

distances as (
    -- d_k in 1e-9 ES points for the other defined keys; NULL for the own kind and undefined keys
    select
        event_id,
        session_date,
        available_ts_ns,
        level_e9,
        direction,
        {%- for k in confluence_keys() %}
        case when level_kind <> {{ k.code }} then abs(v_{{ k.code }} - level_e9) end as d_{{ k.code }}{{ "," if not loop.last }}
        {%- endfor %}
    from at_decision
),

scored as (
    select
        event_id,
        session_date,
        available_ts_ns,
        level_e9,
        direction,
        {%- set ds = [] %}{% for k in confluence_keys() %}{% do ds.append('d_' ~ k.code) %}{% endfor %}
        {{ spy_from_e9('least(' ~ ds | join(', ') ~ ')') }} as confluence_min_distance,
        (
            {%- for k in confluence_keys() %}
            (coalesce(d_{{ k.code }} <= {{ band_e9 + tol }}, false))::integer{{ " +" if not loop.last }}
            {%- endfor %}
        ) as confluence_count,
        (
            {%- for k in confluence_keys() %}
            coalesce(case when d_{{ k.code }} <= {{ band_e9 + tol }}
                then {{ k.confluence_weight }} * greatest(1 - d_{{ k.code }} / {{ band_e9 }}, 0) end, 0){{ " +" if not loop.last }}
            {%- endfor %}
        ) as confluence_weighted_score
    from distances
),

alignment as (
    select
        s.event_id,
        case
            when m.sma_200 is null or m.sma_400 is null or m.sma_200_slope is null or m.sma_400_slope is null then 0
            when s.direction = 'UP' and l_below and slopes_neg and spread > 0 then 1
            when s.direction = 'UP' and l_above and slopes_pos and spread < 0 then -1
            when s.direction = 'DOWN' and l_above and slopes_pos and spread > 0 then 1
            when s.direction = 'DOWN' and l_below and slopes_neg and spread < 0 then -1
            else 0
        end::tinyint as confluence_alignment
    from scored as s
    inner join (
        select
            event_id,
            sma_200,
            sma_400,
            sma_200_slope,
            sma_400_slope,
            level_price < sma_200 and level_price < sma_400 as l_below,
            level_price > sma_200 and level_price > sma_400 as l_above,
            sma_200_slope < 0 and sma_400_slope < 0 as slopes_neg,
            sma_200_slope > 0 and sma_400_slope > 0 as slopes_pos,
            sma_200_slope - sma_400_slope as spread
        from {{ ref('int_context__mean_reversion') }}
        inner join (select event_id, level_price from {{ ref('int_touches__detected') }}) using (event_id)
    ) as m using (event_id)
)

select
    s.event_id,
    s.session_date,
    s.available_ts_ns,
    s.confluence_count::integer as confluence_count,
    s.confluence_weighted_score::double as confluence_weighted_score,
    s.confluence_min_distance,
    s.confluence_weighted_score::double / {{ confluence_total_weight() }} as confluence_pressure,
    a.confluence_alignment
from scored as s
inner join alignment as a using (event_id)
order by s.available_ts_ns, s.event_id
