-- Put-call parity pairs of the run date (SPEC §7.3 strike basis). Pairing rule, looking only back:
-- every option print (the pair's *later* print) is paired with the latest print of the opposite
-- right at the same strike and at most {{ var('fuel_pair_max_gap_seconds') }} s earlier: for a call, the latest put with
-- ts <= its ts; for a put, the latest call with ts < its ts (so a call and a put at one timestamp
-- make one pair, not two). Several opposite prints at that partner timestamp: the one with the
-- highest seq. A pair exists from its later print on (pair_ts_ns), whatever happens afterwards; a
-- print is the later print of at most one pair, an earlier print can serve several later ones.
-- Prints without a price > 0 or without an ES spot yet take no part.
--   implied_spot = C - P + K   real SPY $ (no carry term: python_udfs.fuel.parity_implied_spot)
--   pair_spot    = mean of the two prints' SPY-frame spots (as-of ES / ratio at each print)
--   pair_basis   = pair_spot - implied_spot: the basis each pair measures; measured per pair so
--                  the spot's move over the 10-minute look-back does not leak into the basis.
-- A view: computed once per run by its only consumer, int_options__basis_by_minute (writing ~1 pair
-- per print to a table would cost more than computing them); query it ad hoc like any model.
{{ config(materialized='view') }}

with prints as (
    select ts_event_ns, seq, strike, option_right, price, spot
    from {{ ref('int_options__trades_as_of_spot') }}
    where price > 0 and spot is not null
),

partners as (
    -- one candidate partner per (strike, right, timestamp): the print with the highest seq
    select strike, option_right, ts_event_ns, spot, arg_max(price, (seq, price)) as price
    from prints
    group by all
),

call_after_put as (
    select
        c.ts_event_ns as pair_ts_ns,
        c.seq as later_seq,
        'C' as later_right,
        p.ts_event_ns as earlier_ts_ns,
        c.strike,
        c.price as call_price,
        p.price as put_price,
        (c.spot + p.spot) / 2 as pair_spot
    from (select * from prints where option_right = 'C') as c
    asof join (select * from partners where option_right = 'P') as p
        on c.strike = p.strike and c.ts_event_ns >= p.ts_event_ns
    where c.ts_event_ns - p.ts_event_ns <= {{ fuel_pair_max_gap_ns() }}
),

put_after_call as (
    select
        p.ts_event_ns as pair_ts_ns,
        p.seq as later_seq,
        'P' as later_right,
        c.ts_event_ns as earlier_ts_ns,
        p.strike,
        c.price as call_price,
        p.price as put_price,
        (c.spot + p.spot) / 2 as pair_spot
    from (select * from prints where option_right = 'P') as p
    asof join (select * from partners where option_right = 'C') as c
        on p.strike = c.strike and p.ts_event_ns > c.ts_event_ns
    where p.ts_event_ns - c.ts_event_ns <= {{ fuel_pair_max_gap_ns() }}
),

pairs as (
    select * from call_after_put
    union all
    select * from put_after_call
)

select
    {{ run_date() }} as session_date,
    pair_ts_ns,
    later_seq,
    later_right,
    earlier_ts_ns,
    -- the pair is in the look-back of the minute marks t with pair_ts_ns < t <= pair_ts_ns + window
    pair_ts_ns // {{ ns_per_minute() }} * {{ ns_per_minute() }} as pair_minute_ns,
    strike,
    call_price,
    put_price,
    call_price - put_price + strike as implied_spot,
    pair_spot,
    pair_spot - (call_price - put_price + strike) as pair_basis
from pairs
