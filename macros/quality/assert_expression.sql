{#-
  Generic test: every row satisfies a SQL boolean expression (NULL counts as a failure unless the
  expression handles it). Usage in YAML:
      tests:
        - assert_expression:
            expression: "high >= greatest(open, close)"
-#}
{% test assert_expression(model, expression, column_name=none, where=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where %} and ({{ where }}){% endif %}
{% endtest %}
