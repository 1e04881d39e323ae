{#-
  Parameters of the fuel / dealer-gamma physics (SPEC §7.3, physics reference §6.6). Each reads the dbt
  var of the same name, declared with its value in dbt_project.yml (the one place), so they can be
  tuned with --vars without editing the SQL. Rendered as plain SQL literals (maths constants, never the run date).
-#}

{#- Black-Scholes risk-free rate (continuously compounded, per trading year). -#}
{% macro fuel_rate() -%}{{ var('fuel_rate') }}{%- endmacro %}

{#- Implied vol used when a print's price gives no solution. -#}
{% macro fuel_default_iv() -%}{{ var('fuel_default_iv') }}{%- endmacro %}

{#- $ (SPY frame): mapped strikes within this distance of the level count for gamma_exposure and flows. -#}
{% macro fuel_strike_range() -%}{{ var('fuel_strike_range') }}{%- endmacro %}

{#- $ (SPY frame): CALL_WALL / PUT_WALL candidates must have a mapped strike within this distance of spot. -#}
{% macro fuel_wall_range() -%}{{ var('fuel_wall_range') }}{%- endmacro %}

{#- Parity basis: maximum gap between the call and put print of a pair (s), look-back window (s),
    and how many strikes nearest the money are used. -#}
{% macro fuel_pair_max_gap_ns() -%}{{ seconds_ns(var('fuel_pair_max_gap_seconds')) }}{%- endmacro %}
{% macro fuel_basis_window_minutes() -%}{{ var('fuel_basis_window_minutes') | int }}{%- endmacro %}
{% macro fuel_basis_strikes() -%}{{ var('fuel_basis_strikes') | int }}{%- endmacro %}

{#- Comparison tolerance ($) of the inclusive strike-range tests. -#}
{% macro fuel_tolerance() -%}1e-9{%- endmacro %}

{#- Dealer-flow velocity windows (minutes) and the tanh normalisation of dealer_pressure*. -#}
{% macro fuel_flow_window_minutes() -%}{{ var('dealer_flow_window_minutes') | int }}{%- endmacro %}
{% macro fuel_flow_baseline_minutes() -%}{{ var('dealer_flow_baseline_minutes') | int }}{%- endmacro %}
{% macro fuel_flow_accel_short_minutes() -%}{{ var('dealer_flow_accel_short_minutes') | int }}{%- endmacro %}
{% macro fuel_flow_accel_long_minutes() -%}{{ var('dealer_flow_accel_long_minutes') | int }}{%- endmacro %}
{% macro fuel_flow_norm() -%}{{ var('gamma_flow_norm') }}{%- endmacro %}

{#-
  Share-gamma sums are done in exact integers of 1e-6 share-gamma (HUGEINT), so every total is
  independent of the order DuckDB adds rows up (byte-identical reruns, SPEC §9).
-#}
{% macro fuel_to_micro(expr) -%}
    round(({{ expr }}) * 1e6)::hugeint
{%- endmacro %}
{% macro fuel_from_micro(expr) -%}
    (({{ expr }})::double / 1e6)
{%- endmacro %}

{#-
  Time to the session close in trading years, max(close_ns - ts_ns, 0) / 1e9 / (252 x 6.5 x 3600):
  the same formula and rounding as the UDF bb_trading_years_to_close (exact int64 difference, one
  double division), written in SQL because the UDF's per-chunk Python overhead dominates on ~1M rows.
-#}
{% macro fuel_trading_years(ts_ns, close_ns) -%}
    (greatest(({{ close_ns }}) - ({{ ts_ns }}), 0)::double / 5896800000000000.0)
{%- endmacro %}

{#-
  Share-gamma of one option contract (100 x Black-Scholes gamma at the row's real SPY spot, strike,
  time and IV) as an exact int64 of 1e-9 share-gamma, from a row of int_options__dealer_gamma
  (alias `g`). fuel_effect and its scale sum dealer_position x this in integers, so an option size
  x 10 scales every sum exactly by 10 (a float product could round differently).
-#}
{% macro fuel_unit_gamma_e9(g) -%}
    round(bb_bs_gamma({{ g }}.spy_spot, {{ g }}.strike, {{ g }}.t_years, {{ g }}.iv, {{ fuel_rate() }}) * 1e11)::bigint
{%- endmacro %}

{#-
  fuel_effect's thresholds as the trailing arguments of bb_fuel_effect: the multiplier c of the gamma
  scale (`fuel_effect_scale`) and how many counted minute marks the scale needs
  (`fuel_gamma_scale_min_marks`); both dbt vars of dbt_project.yml.
-#}
{% macro fuel_effect_thresholds() -%}
    {%- set c = var('fuel_effect_scale') -%}
    {%- set n = var('fuel_gamma_scale_min_marks') -%}
    {%- if c is not number or c < 0 or n is not number or n < 1 or (n | int) != n -%}
        {{ exceptions.raise_compiler_error("breakbounce: fuel_effect_scale must be >= 0 and fuel_gamma_scale_min_marks a positive integer, got " ~ c ~ ", " ~ n) }}
    {%- endif -%}
    {{ c }}::double, {{ n | int }}::bigint
{%- endmacro %}
