{#-
  Post-hook of gold_touch_signals: write the run date's Gold parquet atomically (SPEC §9).
    1. refuse if the relation holds a row of another session (never publish the wrong date);
    2. bb_gold_prepare(final) -> this process's temp path next to the final file (stale temps of
       dead runs are removed);
    3. COPY the rows, ordered by (ts_ns, level_kind), to the temp file (parquet, zstd) — zero
       events still give a file with the full schema. Every column is written as OPTIONAL: DuckDB
       marks a column REQUIRED when its statistics show no NULL, which would make the file schema
       depend on the day's data; a typed zero-row UNION ALL branch keeps all columns nullable;
    4. bb_publish_file(tmp, final): fsync + rename over the final file.
  A run killed before step 4 leaves the previous Gold file untouched. Rendered only when executing,
  so compiling or parsing never writes anything. Returns no SQL of its own (runs its queries).
-#}
{% macro publish_gold(relation=none) -%}
    {%- if execute -%}
        {%- set relation = relation or this -%}
        {%- set final = run_query("select getvariable('bb_gold_file')").columns[0].values()[0] -%}
        {%- if not final -%}
            {{ exceptions.raise_compiler_error("breakbounce: no Gold target (bb_gold_file); pass --vars '{date: YYYY-MM-DD}'") }}
        {%- endif -%}
        {%- set foreign = run_query(
            "select count(*), min(session_date)::varchar from " ~ relation
            ~ " where session_date is distinct from getvariable('bb_date')").rows[0] -%}
        {%- if foreign[0] > 0 -%}
            {{ exceptions.raise_compiler_error(
                "breakbounce: refusing to publish Gold for " ~ current_run_date() ~ ": " ~ relation
                ~ " holds " ~ foreign[0] ~ " row(s) of session " ~ foreign[1]) }}
        {%- endif -%}
        {%- set tmp = run_query("select bb_gold_prepare(getvariable('bb_gold_file'))").columns[0].values()[0] -%}
        {%- set nullable_branch = [] -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- do nullable_branch.append('null::' ~ col.data_type ~ ' as ' ~ adapter.quote(col.name)) -%}
        {%- endfor -%}
        {%- do run_query(
            "copy (select * from (select * from " ~ relation ~ " union all select "
            ~ nullable_branch | join(', ') ~ " from range(0)) order by ts_ns, level_kind) to '"
            ~ (tmp | replace("'", "''")) ~ "' (format parquet, compression zstd)") -%}
        {%- do run_query(
            "select bb_publish_file('" ~ (tmp | replace("'", "''")) ~ "', getvariable('bb_gold_file'))") -%}
    {%- endif -%}
    select 1
{%- endmacro %}
