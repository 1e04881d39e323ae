-- Gold: one row per touch of a key level on the run date (SPEC §9), ordered by (ts_ns, level_kind).
-- Features use only Bronze with ts < available_ts_ns (= t_dec = T0 + 60 s); label columns look
-- forward from their anchors. The column set and types are fixed by the enforced contract in
-- _marts__models.yml. The file itself is written by gold_touch_signals (after this model's tests).
{{ config(contract={'enforced': true}) }}

with events as (
    -- touch events with their level, direction and bar context
    select * from {{ ref('int_touches__detected') }}
),

relative_volume as (
    -- rel_vol_ratio at t_dec
    select event_id, session_date, rel_vol_ratio from {{ ref('int_touches__relative_volume') }}
),

labels as (
    -- every label column, per window and the un-suffixed primary copy
    select * from {{ ref('int_labels__by_event') }}
),

joined as (
    -- refuses rows of another session: a subset run reading stale upstream tables fails loudly
    select
        e.*,
        r.rel_vol_ratio,
        l.* exclude (event_id, session_date),
        case
            when e.session_date = {{ run_date() }}
                and r.session_date = e.session_date
                and l.session_date = e.session_date
                then true
            else error('breakbounce: fct_touch_signals read an upstream row of session '
                || coalesce(e.session_date::varchar, '?') || ' in the run for ' || {{ run_date() }}::varchar
                || '; rebuild the upstream models for this date')
        end as is_run_date
    from events as e
    left join relative_volume as r using (event_id)
    left join labels as l using (event_id)
)

select
    event_id,
    ts_ns,
    available_ts_ns,
    session_date,
    strftime(session_date, '%Y-%m-%d') as date,
    'SPY' as symbol,
    level_price,
    level_kind::bigint as level_kind,
    level_kind_name,
    direction,
    direction_sign::bigint as direction_sign,
    distance,
    spot,
    atr,
    rel_vol_ratio,
    {%- for w in label_windows() %}
    {%- for col, typ in label_value_columns() %}
    {{ col }}{{ label_suffix(w) }}::{{ typ }} as {{ col }}{{ label_suffix(w) }},
    {%- endfor %}
    {%- endfor %}
    {%- for col, typ in label_value_columns() if col != 'future_price' %}
    {{ col }}::{{ typ }} as {{ col }},
    {%- endfor %}
    future_price_5min::double as future_price_5min
from joined
where is_run_date
order by ts_ns, level_kind
