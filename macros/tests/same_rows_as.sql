{#-
  Generic test: the model has exactly one row per row of `compare_model` on the key `column_name`
  (no row lost, none invented, none duplicated); `compare_where` filters the other model. Usage:
      - name: event_id
        tests:
          - same_rows_as:
              arguments: {compare_model: "ref('int_touches__detected')"}
-#}
{% test same_rows_as(model, column_name, compare_model, compare_column=none, multiplier=1, compare_where=none) %}
with ours as (
    select {{ column_name }} as k, count(*) as n from {{ model }} group by 1
),
theirs as (
    select {{ compare_column or column_name }} as k, {{ multiplier }} * count(*) as n
    from {{ compare_model }}
    {%- if compare_where %} where {{ compare_where }}{% endif %}
    group by 1
)
select coalesce(o.k, t.k) as k, o.n as ours, t.n as theirs
from ours as o
full outer join theirs as t on o.k = t.k
where o.n is distinct from t.n
{% endtest %}
