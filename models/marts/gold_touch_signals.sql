-- The Gold file of the run date: a view of fct_touch_signals whose post-hook writes
-- gold/signals/date=D/signals.parquet atomically (macros/gold/publish_gold.sql, breakbounce/gold.py).
-- It is a separate node so that `dbt build` runs fct_touch_signals' tests first and skips publishing
-- when any fails: the previous Gold file of the date then stays as it was. `dbt run` runs no tests:
-- it publishes what it built. `meta` carries the label configuration recorded in the file.
{{ config(
    materialized='view',
    post_hook=["{{ publish_gold() }}"],
    meta={'breakbounce_gold_labels': gold_label_config()},
) }}

select * from {{ ref('fct_touch_signals') }}
