{#-
  Generic test: the combination of `columns` identifies a row. Usage:
      tests:
        - unique_key_combination:
            columns: [session_date, bar_start_ns]
-#}
{% test unique_key_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
