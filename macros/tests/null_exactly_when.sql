{#-
  Generic test: the column is NULL exactly on the rows where `condition` is true (NULL semantics
  stated as a test). Usage:
      - name: time_to_threshold_2
        tests:
          - null_exactly_when:
              arguments: {condition: "tradeable_2 = 0"}
-#}
{% test null_exactly_when(model, column_name, condition) %}
select *
from {{ model }}
where ({{ column_name }} is null) <> coalesce(({{ condition }}), false)
{% endtest %}
