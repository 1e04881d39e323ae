-- This run's warmup sessions' minute bars per contract (every run session but the run date): the
-- entries of the int_bars__es_session_minutes cache that match the sessions and Bronze fingerprints
-- the plugin planned for this run. The warmup bars of int_bars__es_1min / int_bars__es_2min and
-- the warmup rows of int_quality__bronze_drops come from here.

select
    c.session_date,
    c.contract,
    c.is_front_month,
    c.bar_start_ns,
    c.open_e9,
    c.high_e9,
    c.low_e9,
    c.close_e9,
    c.volume,
    c.trade_count,
    c.n_copies
from {{ ref('int_bars__es_session_minutes') }} as c
inner join {{ warmup_fingerprints() }} as w
    on c.session_date = w.session_date and c.bronze_fingerprint = w.bronze_fingerprint
