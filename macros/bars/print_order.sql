{#-
  The order of ES prints, as a struct key for arg_min / arg_max: (ts_event_ns, seq) as SPEC §1 says,
  then, for prints sharing both (the fills of one aggressive order, which a venue reports in one message
  with one sequence number), the sweep's own order: a buy lifts the offers upwards and a sell hits the
  bids downwards (aggressor * price ascending; an unknown side leaves it to price). Prints still tied
  have the same price, so an open, close or last price is the same whichever of them comes first, and
  the result never depends on file order or thread scheduling.
-#}
{% macro print_order_key(ts='ts_event_ns', seq='seq', price_e9='price_e9', aggressor='aggressor') -%}
    {'ts': {{ ts }}, 'seq': {{ seq }}, 'sweep': {{ aggressor }}::bigint * {{ price_e9 }}, 'price': {{ price_e9 }}}
{%- endmacro %}
