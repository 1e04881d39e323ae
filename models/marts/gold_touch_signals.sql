-- The Gold file of the run date: a view of fct_touch_signals whose post-hook writes
-- gold/signals/date=D/signals.parquet atomically (macros/gold/publish_gold.sql). It is a separate
-- node so that `dbt build` runs fct_touch_signals' tests first and skips publishing when any fails:
-- the previous Gold file of the date then stays as it was.
{{ config(materialized='view', post_hook=["{{ publish_gold() }}"]) }}

select * from {{ ref('fct_touch_signals') }}
