{#- Schemas are named after the layer (staging, intermediate, marts, reference), not prefixed with
    the target schema: `select * from intermediate.int_bars__es_1min` in an ad-hoc session. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
