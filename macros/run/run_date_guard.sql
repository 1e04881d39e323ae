{#-
  Guard against mixing dates in the warehouse.

  Tables (staging tape, intermediate, marts) persist between dbt invocations, so a subset run for
  a new date (`dbt run -s some_model --vars '{date: D2}'`) would silently read upstream tables still
  holding another date. Every table is therefore stamped with the run date it was built for (a
  DuckDB table comment, set by `stamp_run_date` as a post-hook), and before any model runs,
  `assert_upstream_built_for_run` checks the stamp of every table it depends on, directly or
  through views or ephemeral models. A stale upstream stops the run with a one-line instruction.
  Views need no stamp: they read the current run's files through getvariable() every time.
-#}

{% macro current_run_date() -%}
    {%- if execute -%}
        {{ return(run_query("select coalesce(getvariable('bb_date')::varchar, '')").columns[0].values()[0]) }}
    {%- endif -%}
{%- endmacro %}

{% macro stamp_run_date() -%}
    {%- if execute and model.config.materialized in ('table', 'incremental', 'seed') -%}
        comment on table {{ this }} is 'breakbounce run date {{ current_run_date() }}'
    {%- endif -%}
{%- endmacro %}

{% macro assert_upstream_built_for_run() -%}
    {%- if execute -%}
        {%- set ns = namespace(frontier=model.depends_on.nodes | list, tables=[]) -%}
        {%- for _ in range(20) -%}
            {%- set next_frontier = [] -%}
            {%- for uid in ns.frontier -%}
                {%- set node = graph.nodes.get(uid) -%}
                {%- if node is not none and node.resource_type == 'model' -%}
                    {%- if node.config.materialized in ('view', 'ephemeral') -%}
                        {%- do next_frontier.extend(node.depends_on.nodes) -%}
                    {%- elif node not in ns.tables -%}
                        {%- do ns.tables.append(node) -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set ns.frontier = next_frontier -%}
        {%- endfor -%}
        {%- if ns.tables -%}
            {%- set run_date = current_run_date() -%}
            {%- set expected = 'breakbounce run date ' ~ run_date -%}
            {%- set stamps = run_query(
                "select schema_name, table_name, coalesce(comment, '') from duckdb_tables() "
                ~ "where database_name = current_database()") -%}
            {%- set found = {} -%}
            {%- for row in stamps.rows -%}
                {%- do found.update({(row[0] ~ '.' ~ row[1]): row[2]}) -%}
            {%- endfor -%}
            {%- for node in ns.tables -%}
                {%- set key = node.schema ~ '.' ~ node.alias -%}
                {%- set stamp = found.get(key) -%}
                {%- if stamp is not none and stamp != expected -%}
                    {{ exceptions.raise_compiler_error(
                        "breakbounce: " ~ model.name ~ " reads " ~ node.name ~ ", which was built for "
                        ~ (stamp | replace('breakbounce run date ', '') or 'another date') ~ ", not " ~ run_date
                        ~ "; rebuild the upstream too: dbt build -s +" ~ model.name ~ " --vars '{date: " ~ run_date ~ "}'") }}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
