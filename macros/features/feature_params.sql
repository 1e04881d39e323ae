{#-
  Parameters of the context / confluence / transform features (SPEC §8; the earlier pipeline's
  config constants, original_pipeline.md §11). Each reads the dbt var of the same name, declared with
  its value in dbt_project.yml (the one place), and renders as a plain SQL literal (maths constants,
  never the run date).
-#}

{#- Mean reversion: SMA slopes are time differences, value at t minus value at t - N minutes, per
    minute (N = 20; the "_5bar" short slope N = 10); mean_reversion_velocity over 10 minutes; the
    close volatility is the sample std of the last 20 one-minute close changes. -#}
{% macro sma_slope_minutes() -%}{{ return(var('sma_slope_minutes') | int) }}{%- endmacro %}
{% macro sma_slope_short_minutes() -%}{{ return(var('sma_slope_short_minutes') | int) }}{%- endmacro %}
{% macro mean_reversion_velocity_minutes() -%}{{ return(var('mean_reversion_velocity_minutes') | int) }}{%- endmacro %}
{% macro mean_reversion_vol_bars() -%}{{ return(var('mean_reversion_vol_bars') | int) }}{%- endmacro %}

{#- Approach: look-back in minutes (1-minute bars with start in (T0 - N min, T0]). -#}
{% macro approach_lookback_minutes() -%}{{ return(var('approach_lookback_minutes') | int) }}{%- endmacro %}

{#- Attempts: a new cluster starts after a gap > N minutes or a level move > band $ (same kind and
    direction); prior_touches counts earlier events within the band $ of the level. -#}
{% macro attempt_cluster_minutes() -%}{{ return(var('attempt_cluster_minutes') | int) }}{%- endmacro %}
{% macro attempt_cluster_band() -%}{{ return(var('attempt_cluster_band')) }}{%- endmacro %}
{% macro prior_touch_band() -%}{{ return(var('prior_touch_band')) }}{%- endmacro %}

{#- Dynamic confluence: band ($), and the keys: every level kind with its weight, in summation order
    (the level universe, macros/levels/level_kinds.sql). -#}
{% macro confluence_band() -%}{{ return(var('confluence_band')) }}{%- endmacro %}
{% macro confluence_keys() -%}
    {{ return(level_universe()) }}
{%- endmacro %}
{% macro confluence_total_weight() -%}
    {%- set total = namespace(w=0) -%}
    {%- for k in confluence_keys() %}{% set total.w = total.w + k.confluence_weight %}{% endfor -%}
    {{ return(total.w | round(6)) }}
{%- endmacro %}

{#- Hierarchical confluence level (original_pipeline.md §7.3). -#}
{% macro sma_proximity_threshold() -%}{{ return(var('sma_proximity_threshold')) }}{%- endmacro %}
{% macro wall_proximity_dollars() -%}{{ return(var('wall_proximity_dollars')) }}{%- endmacro %}
{% macro rel_vol_high_threshold() -%}{{ return(var('rel_vol_high_threshold')) }}{%- endmacro %}
{% macro first_hour_minutes() -%}{{ return(var('first_hour_minutes') | int) }}{%- endmacro %}

{#- Pressure indicators: tanh / clip normalisations. tape_velocity is SPY $/s, so its norm is 0.05
    (the earlier 0.5 was applied to ES points/s). -#}
{% macro barrier_delta_liq_norm() -%}{{ return(var('barrier_delta_liq_norm')) }}{%- endmacro %}
{% macro wall_ratio_norm() -%}{{ return(var('wall_ratio_norm')) }}{%- endmacro %}
{% macro tape_velocity_norm() -%}{{ return(var('tape_velocity_norm')) }}{%- endmacro %}
{% macro gamma_exposure_norm() -%}{{ return(var('gamma_exposure_norm')) }}{%- endmacro %}
{% macro gamma_flow_accel_norm() -%}{{ return(var('gamma_flow_accel_norm')) }}{%- endmacro %}

{#- The earlier pipeline's denominators' epsilon (x / (atr + eps), x / (spot + eps), ...). -#}
{% macro feature_eps() -%}1e-6{%- endmacro %}

{#- clip(x, lo, hi) with NULL propagated (DuckDB's least / greatest skip NULL arguments). -#}
{% macro clip(expr, lo=-1, hi=1) -%}
    (case when ({{ expr }}) is not null then least(greatest({{ expr }}, {{ lo }}), {{ hi }}) end)
{%- endmacro %}

{#- sign(x) * ln(1 + |x|), NULL propagated (the earlier pipeline's *_log sparse transform). -#}
{% macro signed_log1p(expr) -%}
    (sign({{ expr }}) * ln(1 + abs({{ expr }})))
{%- endmacro %}

{#- 1e-9 ES points to SPY-frame $ of a whole expression (e9_to_spy with the expression parenthesised,
    so that `a - b` converts as a difference). -#}
{% macro spy_from_e9(expr) -%}
    {{ e9_to_spy('(' ~ expr ~ ')') }}
{%- endmacro %}
