{#-
  The hierarchical confluence level (original_pipeline.md §7.3, corrected per SPEC §8) as one
  decision over a relation / CTE `inputs` that has, per row, these columns (SPY-frame $ unless said):
      spot            touch-bar close
      pm_high, pm_low PM range as known at t_dec (NULL = no pre-market trade)
      or_high, or_low OR range as known at t_dec; before 09:45 the running OR (RTH trades so far)
      sma_200, sma_400  SMAs as known at t_dec (NULL = too few bars)
      rel_vol_ratio   relative volume at t_dec (NULL = no prior session)
      is_first_hour   boolean: T0 in [09:30, 10:30)
      call_wall, put_wall  walls as known at t_dec (NULL = none)
      fuel_effect     'AMPLIFY' / 'DAMPEN' / 'NEUTRAL' (NULL = no option flow yet)
  Returns a parenthesised subquery: every input column plus the decision flags (cl_*) and
      breakout_state   int8: 2 ABOVE_ALL (spot > PM high and > OR high), 3 BELOW_ALL (spot < PM low
                       and < OR low), 1 PARTIAL (beyond some but not all of the four), 0 INSIDE; 0 when
                       PM or OR is missing
      gex_alignment    int8: evaluated for every breakout side (up if spot > PM high or > OR high,
                       down if spot < PM low or < OR low): +1 ALIGNED when an up side has spot > call
                       wall or a down side spot < put wall, with fuel AMPLIFY; else -1 OPPOSED when
                       a side's wall is within wall_proximity_dollars of spot (strict) with fuel
                       DAMPEN; else 0 (also 0 with no breakout, no wall or no fuel)
      confluence_level int8 0..10, first match:
                       0 UNDEFINED      PM, OR, an SMA or rel_vol missing
                       1 ULTRA_PREMIUM  full & sma_close & first_hour & aligned & vol_high
                       2 PREMIUM        full & sma_close & first_hour & aligned
                       3 STRONG         full & sma_close & first_hour
                       4 MOMENTUM       full & first_hour & aligned & vol_high (sma far)
                       5 EXTENDED       full & first_hour
                       6 LATE_REVERSION full & sma_close & vol_high (rest of day)
                       7 FADING         full
                       8 DEVELOPING     partial & sma_close & aligned & vol_high
                       9 WEAK           partial
                       10 CONSOLIDATION inside
  where sma_close = spot > 0 and |spot - sma_X| / spot < sma_proximity_threshold for both SMAs
  (strict), vol_high = rel_vol_ratio >= rel_vol_high_threshold. Comparisons with spot are strict.
  The model int_confluence__features uses exactly this macro; tests/integration/test_confluence_level.py
  runs it on hand-built rows reaching every level and branch.
-#}
{% macro confluence_decision(inputs) -%}
(
    select
        *,
        case
            when not cl_has_range then 0
            when cl_above_all then 2
            when cl_below_all then 3
            when cl_partial then 1
            else 0
        end::tinyint as breakout_state,
        case
            when not cl_has_range then 0
            when cl_gex_aligned then 1
            when cl_gex_opposed then -1
            else 0
        end::tinyint as gex_alignment,
        case
            when not cl_complete then 0
            when cl_full and cl_sma_close and is_first_hour and cl_gex_aligned and cl_vol_high then 1
            when cl_full and cl_sma_close and is_first_hour and cl_gex_aligned then 2
            when cl_full and cl_sma_close and is_first_hour then 3
            when cl_full and is_first_hour and cl_gex_aligned and cl_vol_high then 4
            when cl_full and is_first_hour then 5
            when cl_full and cl_sma_close and cl_vol_high then 6
            when cl_full then 7
            when cl_partial and cl_sma_close and cl_gex_aligned and cl_vol_high then 8
            when cl_partial then 9
            else 10
        end::tinyint as confluence_level
    from (
        select
            *,
            cl_above_all or cl_below_all as cl_full,
            (cl_up_break or cl_down_break) and not (cl_above_all or cl_below_all) as cl_partial,
            coalesce(
                (cl_up_break and spot > call_wall and fuel_effect = 'AMPLIFY')
                or (cl_down_break and spot < put_wall and fuel_effect = 'AMPLIFY'),
                false
            ) as cl_gex_aligned,
            coalesce(
                (cl_up_break and abs(spot - call_wall) < {{ wall_proximity_dollars() }} and fuel_effect = 'DAMPEN')
                or (cl_down_break and abs(spot - put_wall) < {{ wall_proximity_dollars() }} and fuel_effect = 'DAMPEN'),
                false
            ) as cl_gex_opposed
        from (
            select
                *,
                pm_high is not null and pm_low is not null and or_high is not null and or_low is not null
                    as cl_has_range,
                pm_high is not null and pm_low is not null and or_high is not null and or_low is not null
                    and sma_200 is not null and sma_400 is not null and rel_vol_ratio is not null
                    as cl_complete,
                coalesce(spot > pm_high and spot > or_high, false) as cl_above_all,
                coalesce(spot < pm_low and spot < or_low, false) as cl_below_all,
                coalesce(spot > pm_high, false) or coalesce(spot > or_high, false) as cl_up_break,
                coalesce(spot < pm_low, false) or coalesce(spot < or_low, false) as cl_down_break,
                coalesce(
                    spot > 0
                    and abs(spot - sma_200) / spot < {{ sma_proximity_threshold() }}
                    and abs(spot - sma_400) / spot < {{ sma_proximity_threshold() }},
                    false
                ) as cl_sma_close,
                coalesce(rel_vol_ratio >= {{ rel_vol_high_threshold() }}, false) as cl_vol_high
            from {{ inputs }}
        )
    )
)
{%- endmacro %}
