{#-
  Seeds are loaded by any dbt command that runs models, not only by `dbt seed` / `dbt build`: the
  project's on-run-start hook `load_stale_seeds()` (re)loads every seed whose table is missing or
  was loaded from another version of its CSV, so `dbt run --vars '{date: D}'` works on a new
  warehouse. A loaded seed table carries the stamp `seed_stamp()` as its comment (the md5 of the
  CSV); `dbt seed` sets it through the `stamp_seed()` post-hook. The fast engine
  (breakbounce/engine.py) loads seeds with the same SQL and stamp.
-#}

{#- The comment of a seed table loaded from the current CSV: 'breakbounce seed md5:<md5 of the file>'. -#}
{% macro seed_stamp(seed_node) -%}
    {%- set path = seed_node.root_path ~ '/' ~ seed_node.original_file_path -%}
    {{ return(run_query("select 'breakbounce seed md5:' || md5(content) from read_text('"
                        ~ (path | replace("'", "''")) ~ "')").columns[0].values()[0]) }}
{%- endmacro %}

{#- Post-hook of every seed: stamp the table `dbt seed` just loaded. -#}
{% macro stamp_seed() -%}
    {%- if execute -%}
        comment on table {{ this }} is '{{ seed_stamp(model) }}'
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: load every seed of this project whose table is missing or stale, unless the
    invocation selected the seed itself (`dbt build`, `dbt seed`: its own node loads it; dbt's
    relation cache, filled before the hooks run, would not know a table the hook created). Runs
    the loads itself and returns no SQL. -#}
{% macro load_stale_seeds() -%}
    {%- if execute -%}
        {%- set found = {} -%}
        {%- for row in run_query("select schema_name, table_name, coalesce(comment, '') from duckdb_tables() "
                                 ~ "where database_name = current_database()").rows -%}
            {%- do found.update({(row[0] ~ '.' ~ row[1]): row[2]}) -%}
        {%- endfor -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.package_name == project_name
                                                 and node.unique_id not in selected_resources -%}
            {%- set stamp = seed_stamp(node) -%}
            {%- if found.get(node.schema ~ '.' ~ node.alias) != stamp -%}
                {{ log("breakbounce: loading seed " ~ node.name ~ " (" ~ node.original_file_path ~ ")", info=True) }}
                {%- set path = (node.root_path ~ '/' ~ node.original_file_path) | replace("'", "''") -%}
                {%- set header = run_query("select * from read_csv('" ~ path ~ "', header = true, all_varchar = true) limit 0") -%}
                {%- set types = node.config.column_types or {} -%}
                {%- set columns = [] -%}
                {%- for name in header.column_names -%}
                    {%- if name not in types -%}
                        {{ exceptions.raise_compiler_error("breakbounce: seed " ~ node.name ~ " column " ~ name ~ " has no column_types entry") }}
                    {%- endif -%}
                    {%- do columns.append("'" ~ name ~ "': '" ~ types[name] ~ "'") -%}
                {%- endfor -%}
                {%- do run_query("create schema if not exists " ~ adapter.quote(node.database) ~ "." ~ adapter.quote(node.schema)) -%}
                {%- do run_query("create or replace table " ~ node.relation_name ~ " as select * from read_csv('" ~ path
                                 ~ "', header = true, delim = '" ~ (node.config.delimiter or ',') ~ "', columns = {"
                                 ~ columns | join(', ') ~ "})") -%}
                {%- do run_query("comment on table " ~ node.relation_name ~ " is '" ~ stamp ~ "'") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
