{#-
  Generic test: many per-row rules of one model checked in ONE query with ONE scan (one dbt node
  instead of one per rule). Each rule has exactly the semantics of the single-rule test it replaces:
    not_null:          [col, ...]                    fails where col is NULL (dbt's not_null)
    accepted_values:   {col: [v, ...]}               fails where col is not one of the values; NULL
                                                     passes (dbt's accepted_values)
    accepted_range:    {col: {min_value, max_value, inclusive, where}}
                                                     as accepted_range (NULL passes, bounds optional)
    null_exactly_when: {col: "condition"}            as null_exactly_when
    expressions:       {name: "sql"} or {name: {expression: "sql", where: "sql"}}
                                                     as assert_expression (NULL fails)
    unique_key:        [col, ...]                    as unique_key_combination: failing_rows = key
                                                     values held by more than one row
    same_rows_as:      {column, compare_model, compare_column, multiplier, compare_where} (or a list)
                                                     as same_rows_as: failing_rows = key values whose
                                                     row count differs from the other model's
  `key` (optional, a column or cheap SQL expression) names an example row of every violated rule.
  The query returns one row per violated rule: rule, failing_rows, example_key, example_value (the
  smallest offending value, for accepted_values / accepted_range), so dbt reports the number of
  violated rules and the rows name them. Rule names: not_null:col, accepted_values:col,
  accepted_range:col, null_exactly_when:col, and the expressions' own names. Usage:
      tests:
        - row_rules:
            name: int_bars__es_1min_row_rules
            arguments:
              key: bar_start_ns
              not_null: [session_date, bar_start_ns]
              accepted_values: {aggressor: [-1, 0, 1]}
              accepted_range: {distance: {min_value: 0, max_value: 0.250000001}}
              null_exactly_when: {rel_vol_ratio: "coalesce(prior_mean_cum_volume, 0) = 0"}
              expressions:
                high_covers_open_close: "high >= greatest(open, close)"
-#}
{% test row_rules(model, not_null=none, accepted_values=none, accepted_range=none, null_exactly_when=none, expressions=none, key=none, unique_key=none, same_rows_as=none) %}
{%- set rules = [] -%}
{%- for col in (not_null or []) -%}
    {%- do rules.append({'name': 'not_null:' ~ col, 'fail': col ~ ' is null', 'value': none}) -%}
{%- endfor -%}
{%- for col, values in (accepted_values or {}).items() -%}
    {%- set literals = [] -%}
    {%- for v in values -%}
        {%- if v is string -%}
            {%- do literals.append("'" ~ (v | replace("'", "''")) ~ "'") -%}
        {%- elif v is sameas true or v is sameas false -%}
            {%- do literals.append('true' if v else 'false') -%}
        {%- else -%}
            {%- do literals.append(v | string) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do rules.append({'name': 'accepted_values:' ~ col,
                         'fail': col ~ ' not in (' ~ literals | join(', ') ~ ')', 'value': col}) -%}
{%- endfor -%}
{%- for col, r in (accepted_range or {}).items() -%}
    {%- set inclusive = r.get('inclusive', true) -%}
    {%- set outside = ['false'] -%}
    {%- if r.get('min_value') is not none -%}
        {%- do outside.append(col ~ (' < ' if inclusive else ' <= ') ~ r['min_value']) -%}
    {%- endif -%}
    {%- if r.get('max_value') is not none -%}
        {%- do outside.append(col ~ (' > ' if inclusive else ' >= ') ~ r['max_value']) -%}
    {%- endif -%}
    {%- set fail = col ~ ' is not null and (' ~ outside | join(' or ') ~ ')' -%}
    {%- if r.get('where') -%}{%- set fail = fail ~ ' and (' ~ r['where'] ~ ')' -%}{%- endif -%}
    {%- do rules.append({'name': 'accepted_range:' ~ col, 'fail': fail, 'value': col}) -%}
{%- endfor -%}
{%- for col, condition in (null_exactly_when or {}).items() -%}
    {%- do rules.append({'name': 'null_exactly_when:' ~ col,
                         'fail': '(' ~ col ~ ' is null) <> coalesce((' ~ condition ~ '), false)', 'value': none}) -%}
{%- endfor -%}
{%- for name, e in (expressions or {}).items() -%}
    {%- set spec = e if e is mapping else {"expression": e} -%}
    {%- set fail = 'not coalesce((' ~ spec['expression'] ~ '), false)' -%}
    {%- if spec.get('where') -%}{%- set fail = fail ~ ' and (' ~ spec['where'] ~ ')' -%}{%- endif -%}
    {%- do rules.append({'name': name, 'fail': fail, 'value': none}) -%}
{%- endfor -%}
{%- set same_rows = (same_rows_as if same_rows_as is sequence and same_rows_as is not mapping and same_rows_as is not string
                     else ([same_rows_as] if same_rows_as else [])) -%}
{%- if not rules and not unique_key and not same_rows -%}
    {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": no rules given") }}
{%- endif -%}
{#- each rule's predicate is evaluated once per row (a boolean column, NULL = row not selected,
    as in the single-rule test's WHERE); one aggregate counts them all; the unnest turns the one
    aggregate row into one row per rule -#}
with
{%- if rules %}
checked as (
    select
        {%- if key %}
        {{ key }} as __rr_key,
        {%- endif %}
        {%- for r in rules %}
        {%- if r.value %}
        {{ r.value }} as __rr_value_{{ loop.index }},
        {%- endif %}
        {{ r.fail }} as __rr_fail_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),
counted as (
    select
        {%- for r in rules %}
        {%- if key %}
        min(__rr_key) filter (where __rr_fail_{{ loop.index }}) as __rr_key_{{ loop.index }},
        {%- endif %}
        {%- if r.value %}
        min(__rr_value_{{ loop.index }}) filter (where __rr_fail_{{ loop.index }}) as __rr_value_{{ loop.index }},
        {%- endif %}
        count(*) filter (where __rr_fail_{{ loop.index }}) as __rr_n_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from checked
),
per_rule as (
    select unnest([
        {%- for r in rules %}
        {'rule': '{{ r.name | replace("'", "''") }}', 'failing_rows': __rr_n_{{ loop.index }}, 'example_key': {{ ('__rr_key_' ~ loop.index) if key else 'null' }}::varchar, 'example_value': {{ ('__rr_value_' ~ loop.index) if r.value else 'null' }}::varchar}{{ ',' if not loop.last }}
        {%- endfor %}
    ]) as r
    from counted
),
per_row_violations as (
    select r.rule as rule, r.failing_rows as failing_rows, r.example_key as example_key, r.example_value as example_value
    from per_rule
),
{%- endif %}
{%- if unique_key %}
duplicate_keys as (
    -- as unique_key_combination: one row per key value held by more than one row
    select {{ unique_key | join(', ') }}, count(*) as n
    from {{ model }}
    group by {{ unique_key | join(', ') }}
    having count(*) > 1
),
unique_key_violations as (
    select
        'unique_key:({{ unique_key | join(', ') }})' as rule,
        count(*) as failing_rows,
        min(({{ unique_key | join(', ') }}))::varchar as example_key,
        max(n)::varchar as example_value
    from duplicate_keys
),
{%- endif %}
{%- for sr in same_rows %}
{%- set col = sr['column'] %}
same_rows_{{ loop.index }} as (
    -- as same_rows_as: every key value occurs here as often as in the other model (x multiplier)
    select coalesce(o.k, t.k) as k
    from (select {{ col }} as k, count(*) as n from {{ model }} group by 1) as o
    full outer join (
        select {{ sr.get('compare_column') or col }} as k, {{ sr.get('multiplier', 1) }} * count(*) as n
        from {{ sr['compare_model'] }}
        {%- if sr.get('compare_where') %} where {{ sr['compare_where'] }}{% endif %}
        group by 1
    ) as t on o.k = t.k
    where o.n is distinct from t.n
),
same_rows_violations_{{ loop.index }} as (
    select
        'same_rows_as:{{ col }}{{ ('#' ~ loop.index) if same_rows | length > 1 else '' }}' as rule,
        count(*) as failing_rows,
        min(k)::varchar as example_key,
        null::varchar as example_value
    from same_rows_{{ loop.index }}
),
{%- endfor %}
violations as (
    {%- set parts = [] %}
    {%- if rules %}{% do parts.append('per_row_violations') %}{% endif %}
    {%- if unique_key %}{% do parts.append('unique_key_violations') %}{% endif %}
    {%- for sr in same_rows %}{% do parts.append('same_rows_violations_' ~ loop.index) %}{% endfor %}
    {%- for part in parts %}
    select rule, failing_rows, example_key, example_value from {{ part }}
    {%- if not loop.last %}
    union all{% endif %}
    {%- endfor %}
)
select rule, failing_rows, example_key, example_value
from violations
where failing_rows > 0
{% endtest %}
