{#-
  Label window helpers (SPEC §6). Windows and the look-forward span are whole minutes: the label
  algorithm walks 1-minute buckets (int_labels__by_window), so anything else is a compile error.
-#}
{% macro label_windows() -%}
    {%- set windows = var('confirmation_windows') -%}
    {%- for w in windows + [var('lookforward_seconds')] -%}
        {%- if (w | int) != w or (w | int) <= 0 or (w | int) % 60 != 0 -%}
            {{ exceptions.raise_compiler_error(
                "breakbounce: confirmation_windows and lookforward_seconds must be positive whole minutes in seconds, got " ~ w) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(windows | map('int') | list) }}
{%- endmacro %}

{#- Column suffix of a window: 120 -> '_2min'. -#}
{% macro label_suffix(window_seconds) -%}
    {{ return('_' ~ ((window_seconds | int) // 60) ~ 'min') }}
{%- endmacro %}

{#- The window repeated by the un-suffixed label columns (the earlier pipeline's 4-minute window). -#}
{% macro primary_label_window() -%}
    {%- set w = var('primary_label_window') | int -%}
    {%- if w not in label_windows() -%}
        {{ exceptions.raise_compiler_error("breakbounce: primary_label_window " ~ w ~ " is not in confirmation_windows") }}
    {%- endif -%}
    {{ return(w) }}
{%- endmacro %}

{#-
  The per-window label columns, in Gold order, each with the SQL type it has in Gold. Thresholds
  are numbered 1..n in `label_thresholds` order; the outcome uses the last (largest) one.
-#}
{% macro label_value_columns() -%}
    {%- set cols = [
        ('outcome', 'varchar'),
        ('excursion_max', 'double'),
        ('excursion_min', 'double'),
        ('strength_signed', 'double'),
        ('strength_abs', 'double'),
    ] -%}
    {%- set n = var('label_thresholds') | length -%}
    {%- for k in range(1, n + 1) %}{% do cols.append(('time_to_threshold_' ~ k, 'double')) %}{% endfor -%}
    {%- for k in range(1, n + 1) %}{% do cols.append(('time_to_break_' ~ k, 'double')) %}{% endfor -%}
    {%- for k in range(1, n + 1) %}{% do cols.append(('time_to_bounce_' ~ k, 'double')) %}{% endfor -%}
    {%- for k in range(1, n + 1) %}{% do cols.append(('tradeable_' ~ k, 'tinyint')) %}{% endfor -%}
    {%- do cols.extend([('confirm_ts_ns', 'bigint'), ('anchor_spot', 'double'), ('future_price', 'double')]) -%}
    {{ return(cols) }}
{%- endmacro %}

{#-
  Label thresholds (SPEC §6). `label_threshold_unit` is 'atr' (thr_k = m_k x the event's ATR) or
  'dollars' (thr_k = m_k SPY $); m = `label_thresholds`, positive, increasing (the outcome uses the
  last), at most 6 decimals. Returns a list of dicts {k, value, micro} with micro = m_k x 1e6 (int).
-#}
{% macro label_threshold_unit() -%}
    {%- set unit = var('label_threshold_unit') -%}
    {%- if unit not in ('atr', 'dollars') -%}
        {{ exceptions.raise_compiler_error("breakbounce: label_threshold_unit must be 'atr' or 'dollars', got " ~ unit) }}
    {%- endif -%}
    {{ return(unit) }}
{%- endmacro %}

{% macro label_thresholds() -%}
    {%- set out = [] -%}
    {%- set values = var('label_thresholds') -%}
    {%- if values | length == 0 -%}
        {{ exceptions.raise_compiler_error("breakbounce: label_thresholds is empty") }}
    {%- endif -%}
    {%- for m in values -%}
        {%- set micro = (m * 1000000) | round | int -%}
        {%- if micro <= 0 or ((m * 1000000) - micro) | abs > 0.000001 -%}
            {{ exceptions.raise_compiler_error("breakbounce: label_thresholds must be positive with at most 6 decimals, got " ~ m) }}
        {%- endif -%}
        {%- if out and micro <= out[-1].micro -%}
            {{ exceptions.raise_compiler_error("breakbounce: label_thresholds must increase, got " ~ values) }}
        {%- endif -%}
        {%- do out.append({'k': loop.index, 'value': m, 'micro': micro}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#-
  SQL (BIGINT) of threshold k in 1e-9 ES points, the unit prices are compared in. 'dollars': m_k SPY $
  rounded to the unit at compile time. 'atr': the exact threshold m_k x atr_range_sum_e9 /
  atr_bar_count rounded UP to a whole unit, and at least 1: prices are whole units, so
  `price >= L + this` holds exactly when price - L >= m_k x ATR (a price x k rescaling keeps every
  comparison), and a zero ATR still needs a move strictly beyond the level.
-#}
{% macro label_threshold_e9(thr, range_sum_e9, bar_count) -%}
    {%- if label_threshold_unit() == 'dollars' -%}
        {{ spy_dollars_to_e9(thr.value) }}::bigint
    {%- else -%}
        greatest(
            ({{ thr.micro }}::hugeint * ({{ range_sum_e9 }}) + 1000000::hugeint * ({{ bar_count }}) - 1)
                // (1000000::hugeint * ({{ bar_count }})),
            1
        )::bigint
    {%- endif -%}
{%- endmacro %}

{#- SQL (DOUBLE) of threshold k in SPY $, as Gold's label_threshold_k: m_k x atr, or m_k dollars. -#}
{% macro label_threshold_spy(thr, atr) -%}
    {%- if label_threshold_unit() == 'dollars' -%}
        {{ thr.value }}::double
    {%- else -%}
        ({{ thr.value }}::double * ({{ atr }}))
    {%- endif -%}
{%- endmacro %}
