{#-
  The level universe (SPEC §5): code, name and the column of int_levels__as_of_minute that holds
  the level in exact 1e-9 ES points. 8 ROUND and 9 STRIKE are reserved codes (off). CALL_WALL and
  PUT_WALL (10, 11) are not columns of the as-of model: their values come from
  int_levels__option_walls (filled by the option-walls issue), unioned in int_levels__by_bar.
-#}
{% macro level_kinds() -%}
    {{ return([
        {'code': 0, 'name': 'PM_HIGH', 'column': 'pm_high_e9'},
        {'code': 1, 'name': 'PM_LOW', 'column': 'pm_low_e9'},
        {'code': 2, 'name': 'OR_HIGH', 'column': 'or_high_e9'},
        {'code': 3, 'name': 'OR_LOW', 'column': 'or_low_e9'},
        {'code': 4, 'name': 'SESSION_HIGH', 'column': 'session_high_e9'},
        {'code': 5, 'name': 'SESSION_LOW', 'column': 'session_low_e9'},
        {'code': 6, 'name': 'SMA_200', 'column': 'sma_200_e9'},
        {'code': 7, 'name': 'VWAP', 'column': 'vwap_e9'},
        {'code': 12, 'name': 'SMA_400', 'column': 'sma_400_e9'},
    ]) }}
{%- endmacro %}

{#- Every level kind name that can appear in Gold (accepted_values of level_kind_name). -#}
{% macro level_kind_names() -%}
    {%- set names = [] -%}
    {%- for k in level_kinds() %}{% do names.append(k.name) %}{% endfor -%}
    {%- do names.extend(['CALL_WALL', 'PUT_WALL']) -%}
    {{ return(names) }}
{%- endmacro %}

{#-
  A dollar amount in the SPY frame as an integer number of 1e-9 ES points (e.g. the 0.10 touch
  band = 1_000_000_000 with es_spy_ratio 10), rounded at compile time so band comparisons are
  exact integer comparisons on the 0.025 grid.
-#}
{% macro spy_dollars_to_e9(dollars) -%}
    {{ (dollars * var('es_spy_ratio') * ns_per_second()) | round | int }}
{%- endmacro %}
