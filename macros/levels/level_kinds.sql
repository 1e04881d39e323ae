{#-
  The level universe (SPEC §5), the one place it is spelled: per kind its code, its name, where its
  value comes from, and its weight in the dynamic confluence (original_pipeline.md §7.1, total 9.3):
    column  the exact 1e-9 ES points column of int_levels__as_of_minute (the price-derived kinds), or
    wall    the SPY $ column of int_levels__option_walls (CALL_WALL / PUT_WALL).
  Listed in the order the confluence sums run over the kinds (floating-point sums depend on it).
  8 ROUND and 9 STRIKE are reserved codes (off). The helpers below derive every other list from it.
-#}
{% macro level_universe() -%}
    {{ return([
        {'code': 0, 'name': 'PM_HIGH', 'column': 'pm_high_e9', 'confluence_weight': 1.0},
        {'code': 1, 'name': 'PM_LOW', 'column': 'pm_low_e9', 'confluence_weight': 1.0},
        {'code': 2, 'name': 'OR_HIGH', 'column': 'or_high_e9', 'confluence_weight': 0.9},
        {'code': 3, 'name': 'OR_LOW', 'column': 'or_low_e9', 'confluence_weight': 0.9},
        {'code': 6, 'name': 'SMA_200', 'column': 'sma_200_e9', 'confluence_weight': 0.8},
        {'code': 12, 'name': 'SMA_400', 'column': 'sma_400_e9', 'confluence_weight': 0.8},
        {'code': 7, 'name': 'VWAP', 'column': 'vwap_e9', 'confluence_weight': 0.7},
        {'code': 4, 'name': 'SESSION_HIGH', 'column': 'session_high_e9', 'confluence_weight': 0.6},
        {'code': 5, 'name': 'SESSION_LOW', 'column': 'session_low_e9', 'confluence_weight': 0.6},
        {'code': 10, 'name': 'CALL_WALL', 'wall': 'call_wall', 'confluence_weight': 1.0},
        {'code': 11, 'name': 'PUT_WALL', 'wall': 'put_wall', 'confluence_weight': 1.0},
    ]) }}
{%- endmacro %}

{#- The price-derived kinds (a column of int_levels__as_of_minute), by code. -#}
{% macro level_kinds() -%}
    {{ return(level_universe() | selectattr('column', 'defined') | sort(attribute='code') | list) }}
{%- endmacro %}

{#- The option-wall kinds (a column of int_levels__option_walls), by code. -#}
{% macro wall_kinds() -%}
    {{ return(level_universe() | selectattr('wall', 'defined') | sort(attribute='code') | list) }}
{%- endmacro %}

{#- Every level kind name that can appear in Gold (accepted_values of level_kind_name). -#}
{% macro level_kind_names() -%}
    {{ return(level_kinds() | map(attribute='name') | list + wall_kinds() | map(attribute='name') | list) }}
{%- endmacro %}

{#-
  A dollar amount in the SPY frame as an integer number of 1e-9 ES points (e.g. the 0.10 touch
  band = 1_000_000_000 with es_spy_ratio 10), rounded at compile time so band comparisons are
  exact integer comparisons on the 0.025 grid.
-#}
{% macro spy_dollars_to_e9(dollars) -%}
    {{ (dollars * var('es_spy_ratio') * ns_per_second()) | round | int }}
{%- endmacro %}
