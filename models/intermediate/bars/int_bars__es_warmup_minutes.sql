-- This run's warmup sessions' minute bars per contract (every run session but the run date): the
-- entries of the stg_bronze__es_session_minutes cache that match the sessions and Bronze fingerprints
-- the plugin planned for this run, with each session's front month as stg_bronze__es_front_month
-- decides it for this run (SPEC §3, the same rule as the run date). The warmup bars of
-- int_bars__es_1min / int_bars__es_2min and the warmup rows of int_quality__bronze_drops come from here.

select
    c.session_date,
    c.contract,
    coalesce(c.contract = f.front_contract, false) as is_front_month,
    c.bar_start_ns,
    c.open_e9,
    c.high_e9,
    c.low_e9,
    c.close_e9,
    c.volume,
    c.trade_count,
    c.n_copies
from {{ ref('stg_bronze__es_session_minutes') }} as c
inner join {{ warmup_fingerprints() }} as w
    on c.session_date = w.session_date and c.bronze_fingerprint = w.bronze_fingerprint
left join {{ ref('stg_bronze__es_front_month') }} as f
    on f.session_date = c.session_date
