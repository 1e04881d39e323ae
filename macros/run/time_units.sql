{#-
  Time units of the project's timestamps (int64 nanoseconds since the UNIX epoch, UTC), as integers:
  the one place SQL spells them. `{{ ns_per_minute() }}` renders 60000000000; `minutes_ns(2)` is two
  minutes in ns. Use these in SQL, YAML tests and singular tests instead of the bare numbers.
-#}
{% macro ns_per_second() %}{{ return(1000000000) }}{% endmacro %}
{% macro ns_per_minute() %}{{ return(60 * ns_per_second()) }}{% endmacro %}
{% macro ns_per_hour() %}{{ return(60 * ns_per_minute()) }}{% endmacro %}

{#- n seconds / minutes in ns (n a number known at compile time; rendered as an integer literal) -#}
{% macro seconds_ns(n) %}{{ return((n * ns_per_second()) | int) }}{% endmacro %}
{% macro minutes_ns(n) %}{{ return((n * ns_per_minute()) | int) }}{% endmacro %}
