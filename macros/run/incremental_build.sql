{#-
  is_incremental(), except that the fast engine's compile (`--vars '{breakbounce_fast_compile: true}'`,
  breakbounce/engine.py) always renders the incremental branch: the engine compiles the project once
  and runs that SQL on every warehouse, creating a missing incremental table empty (from the model's
  contract) before its first run, so the same compiled statement serves a new and an old warehouse.
  Plain dbt is unchanged: no var, so a first run or --full-refresh builds the whole model.
-#}
{% macro incremental_build() -%}
    {{ return(is_incremental() or var('breakbounce_fast_compile', false)) }}
{%- endmacro %}
