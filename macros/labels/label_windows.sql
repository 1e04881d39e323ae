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
    {%- set w = var('primary_label_window', 240) | int -%}
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
