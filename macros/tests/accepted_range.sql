{#-
  Generic test: a numeric column lies in [min_value, max_value] (either bound optional; exclusive
  with inclusive=false). NULLs pass (combine with not_null when a value must exist). Usage:
      columns:
        - name: distance
          tests:
            - accepted_range:
                arguments: {min_value: 0, max_value: 0.25000001}
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true, where=none) %}
select *
from {{ model }}
where {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
    )
    {%- if where %} and ({{ where }}){% endif %}
{% endtest %}
