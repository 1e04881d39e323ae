{#-
  One side of one MBP-10 level, typed, with empty levels as NULL: Databento's UNDEF price
  (i64::MAX * 1e-9 = 9223372036.854776 in the earlier Bronze), NaN, or size 0.
-#}
{% macro book_level(side, i) -%}
    case when {{ side }}_sz_{{ i }} > 0 and {{ side }}_px_{{ i }} < 1e9 and not isnan({{ side }}_px_{{ i }})
        then {{ side }}_px_{{ i }}::double end as {{ side }}_px_{{ i }},
    case when {{ side }}_sz_{{ i }} > 0 and {{ side }}_px_{{ i }} < 1e9 and not isnan({{ side }}_px_{{ i }})
        then {{ side }}_sz_{{ i }}::bigint end as {{ side }}_sz_{{ i }}
{%- endmacro %}
