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
{% test row_rules(model, not_null=none, accepted_values=none, accepted_range=none, null_exactly_when=none, expressions=none, key=none) %}
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
{%- if not rules -%}
    {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": no rules given") }}
{%- endif -%}
{#- each rule's predicate is evaluated once per row (a boolean column, NULL = row not selected,
    as in the single-rule test's WHERE); one aggregate counts them all; the unnest turns the one
    aggregate row into one row per rule -#}
with checked as (
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
)
select r.rule as rule, r.failing_rows as failing_rows, r.example_key as example_key, r.example_value as example_value
from per_rule
where r.failing_rows > 0
{% endtest %}
