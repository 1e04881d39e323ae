{#-
  Post-hook of gold_touch_signals: publish the run date's Gold parquet atomically (SPEC §9).
  The statements come from Python (breakbounce/gold.py publish_statements, through the
  bb_gold_publish_sql UDF the plugin registers) and are the very ones the fast engine runs: refuse
  rows of another session, prepare the temp path, COPY ordered by (ts_ns, level_kind) with every
  column nullable and the key-value metadata, fsync + rename. Rendered only when executing, so
  compiling or parsing never writes anything; logs the file it wrote. Returns no SQL of its own.
-#}
{% macro publish_gold(relation=none) -%}
    {%- if execute -%}
        {%- set relation = relation or this -%}
        {%- set plan = run_query(
            "select bb_gold_publish_sql('" ~ (relation | string | replace("'", "''")) ~ "', "
            ~ "getvariable('bb_date')::varchar, getvariable('bb_gold_file'), '"
            ~ (model.config.meta.breakbounce_gold_labels | tojson | replace("'", "''")) ~ "', "
            ~ "to_json(getvariable('bb_gaps'))::varchar)").columns[0].values()[0] -%}
        {%- set ns = namespace(final=none) -%}
        {%- for statement in fromjson(plan) -%}
            {%- set result = run_query(statement) -%}
            {%- if result.rows | length > 0 -%}{%- set ns.final = result.rows[0][0] -%}{%- endif -%}
        {%- endfor -%}
        {{ log("breakbounce: published Gold " ~ ns.final, info=True) }}
    {%- endif -%}
    select 1
{%- endmacro %}
