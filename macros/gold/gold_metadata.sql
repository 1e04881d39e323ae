{#-
  The label configuration recorded in every Gold file's parquet key-value metadata as
  `breakbounce.labels` (breakbounce/gold.py kv_metadata), from the dbt vars the label models read.
  Rendered into gold_touch_signals' `meta` when dbt parses the project, so `dbt build` and the fast
  engine (which reads it from the compiled manifest) record the same values. Every value is a var
  declared in dbt_project.yml (no default here).
-#}
{% macro gold_label_config() -%}
    {{ return({
        'threshold_unit': var('label_threshold_unit'),
        'thresholds': var('label_thresholds'),
        'confirmation_windows': var('confirmation_windows'),
        'lookforward_seconds': var('lookforward_seconds'),
        'primary_window': var('primary_label_window'),
    }) }}
{%- endmacro %}
