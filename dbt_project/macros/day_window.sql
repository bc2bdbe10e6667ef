{#-
  Day-incremental runs.

  The vars `min_date` / `max_date` (ISO dates, plant-local production days, inclusive) select the
  days an incremental run rebuilds. Either may be omitted (open bound); both omitted = all data.
  The window is ignored on --full-refresh, which always rebuilds all history.

  * rebuild window (marts): production_date in [min_date - 1, max_date]. The day before min_date is
    rebuilt because its last counter interval (e.g. 23:59 -> 00:00) ends in min_date's partition,
    which may have arrived only now.
  * read windows (intermediate): wider, see the models (counter deltas need the reading after an
    interval's start, production runs may run past midnight).
-#}

{% macro _day_window_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
        {{- exceptions.raise_compiler_error("var '" ~ name ~ "' must be an ISO date YYYY-MM-DD, got '" ~ text ~ "'") -}}
    {%- endif -%}
    {{- return(modules.datetime.date.fromisoformat(text)) -}}
{%- endmacro %}


{% macro day_window_active() -%}
    {#- Unit tests see exactly their fixture rows, whatever --vars the invocation has. -#}
    {%- if model is defined and model is not none and model.resource_type == 'unit_test' -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set lo = _day_window_var('min_date') -%}
    {%- set hi = _day_window_var('max_date') -%}
    {%- if lo is not none and hi is not none and lo > hi -%}
        {{- exceptions.raise_compiler_error("min_date " ~ lo ~ " is after max_date " ~ hi) -}}
    {%- endif -%}
    {{- return((lo is not none or hi is not none) and not flags.FULL_REFRESH) -}}
{%- endmacro %}


{#- SQL predicate: `column` (a DATE) within [min_date - days_before, max_date + days_after];
    `true` when no window is active. -#}
{% macro in_day_window(column, days_before=0, days_after=0) -%}
    {%- if not day_window_active() -%}
        true
    {%- else -%}
        {%- set lo = _day_window_var('min_date') -%}
        {%- set hi = _day_window_var('max_date') -%}
        {%- set parts = [] -%}
        {%- if lo is not none -%}
            {%- do parts.append(column ~ " >= date '" ~ (lo - modules.datetime.timedelta(days=days_before)).isoformat() ~ "'") -%}
        {%- endif -%}
        {%- if hi is not none -%}
            {%- do parts.append(column ~ " <= date '" ~ (hi + modules.datetime.timedelta(days=days_after)).isoformat() ~ "'") -%}
        {%- endif -%}
        ({{ parts | join(' and ') }})
    {%- endif -%}
{%- endmacro %}


{#- The days a mart rebuilds: [min_date - 1, max_date]. -#}
{% macro in_rebuild_window(column='production_date') -%}
    {{- in_day_window(column, 1, 0) -}}
{%- endmacro %}


{#- Pre-hook of the day-incremental marts: on an incremental run, delete every row of the rebuilt
    days first, so a row that no longer exists upstream disappears too (delete+insert on the
    unique key alone only replaces rows that are produced again). Empty on a first or full build. -#}
{% macro delete_rebuilt_days(column='production_date') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_rebuild_window(column) }}
    {%- endif -%}
{%- endmacro %}
