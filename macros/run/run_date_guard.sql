{#-
  Guard against mixing dates in the warehouse.

  Tables (staging tape, intermediate, marts) persist between dbt invocations, so a subset run for
  a new date (`dbt run -s some_model --vars '{date: D2}'`), or `dbt test` on a warehouse last built
  for another date, would silently read tables still holding another date. Every table is therefore
  stamped with the run date it was built for (a DuckDB table comment, set by `stamp_run_date` as a
  post-hook), and before anything runs, the on-run-start hook `assert_selected_built_for_run`
  checks every selected model and test: each table it reads, directly or through views or
  ephemeral models, that this invocation does not rebuild itself must carry the run date. A stale
  table stops the whole invocation with one line naming the command that rebuilds it; nothing runs.
  Views need no stamp: they read the current run's files through getvariable() every time.
-#}

{% macro current_run_date() -%}
    {%- if execute -%}
        {{ return(run_query("select coalesce(getvariable('bb_date')::varchar, '')").columns[0].values()[0]) }}
    {%- endif -%}
{%- endmacro %}

{% macro stamp_run_date() -%}
    {%- if execute and model.config.materialized in ('table', 'incremental') -%}
        comment on table {{ this }} is 'breakbounce run date {{ current_run_date() }}'
    {%- endif -%}
{%- endmacro %}

{#- The tables (table / incremental models) a node reads, directly or through views and ephemeral models. -#}
{% macro upstream_tables(node) -%}
    {%- set ns = namespace(frontier=node.depends_on.nodes | list, tables=[], seen=[]) -%}
    {%- for _ in range(50) if ns.frontier -%}
        {%- set next_frontier = [] -%}
        {%- for uid in ns.frontier if uid not in ns.seen -%}
            {%- do ns.seen.append(uid) -%}
            {%- set parent = graph.nodes.get(uid) -%}
            {%- if parent is not none and parent.resource_type == 'model' -%}
                {%- if parent.config.materialized in ('view', 'ephemeral') -%}
                    {%- do next_frontier.extend(parent.depends_on.nodes) -%}
                {%- else -%}
                    {%- do ns.tables.append(parent) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set ns.frontier = next_frontier -%}
    {%- endfor -%}
    {{ return(ns.tables) }}
{%- endmacro %}

{#-
  on-run-start: every table a selected model or test reads, and that this invocation does not
  rebuild, must be stamped with the run date (or not exist yet). Returns SQL that fails with one
  line naming the first stale table and the command that rebuilds it (dbt then skips every node:
  flags.skip_nodes_if_on_run_start_fails), or nothing.
-#}
{% macro assert_selected_built_for_run() -%}
    {%- if execute -%}
        {%- set run_date = current_run_date() -%}
        {%- set expected = 'breakbounce run date ' ~ run_date -%}
        {%- set found = {} -%}
        {%- for row in run_query("select schema_name, table_name, coalesce(comment, '') from duckdb_tables() "
                                 ~ "where database_name = current_database()").rows -%}
            {%- do found.update({(row[0] ~ '.' ~ row[1]): row[2]}) -%}
        {%- endfor -%}
        {%- set ns = namespace(first=none, nodes=0) -%}
        {%- for uid in selected_resources | sort -%}
            {%- set node = graph.nodes.get(uid) -%}
            {%- if node is not none and node.resource_type in ('model', 'test') -%}
                {%- set ns_node = namespace(stale=false) -%}
                {%- for table in upstream_tables(node) if table.unique_id not in selected_resources -%}
                    {%- set stamp = found.get(table.schema ~ '.' ~ table.alias) -%}
                    {%- if stamp is not none and stamp != expected -%}
                        {%- if ns.first is none -%}
                            {%- set ns.first = (node, table, stamp | replace('breakbounce run date ', '')) -%}
                        {%- endif -%}
                        {%- set ns_node.stale = true -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- if ns_node.stale -%}{%- set ns.nodes = ns.nodes + 1 -%}{%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if ns.first is not none -%}
            {%- set node, table, built = ns.first -%}
            {%- set message = "breakbounce: " ~ node.name ~ " reads " ~ table.name ~ ", which was built for "
                ~ (built or 'another date') ~ ", not " ~ run_date
                ~ ((" (and " ~ (ns.nodes - 1) ~ " more selected nodes read tables of another date)") if ns.nodes > 1 else "")
                ~ "; rebuild the upstream too: dbt build "
                ~ (("-s +" ~ node.name ~ " ") if ns.nodes == 1 else "")
                ~ "--vars '{date: " ~ run_date ~ "}'" -%}
            select error('{{ message | replace("'", "''") }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
