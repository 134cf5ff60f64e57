{# Matching key for Vietnamese text: NFC first (NFD input from old tools), then accents off
   (unaccent maps đ to d), lower case, single spaces. Displayed text keeps its diacritics. #}
{% macro vn_key(expr) -%}
    nullif(lower(regexp_replace(btrim(unaccent(normalize({{ expr }}, NFC))), '\s+', ' ', 'g')), '')
{%- endmacro %}

{# Display form: NFC and single spaces, diacritics kept. #}
{% macro vn_clean(expr) -%}
    nullif(regexp_replace(btrim(normalize({{ expr }}, NFC)), '\s+', ' ', 'g'), '')
{%- endmacro %}

{# make_date that gives null for an impossible day instead of failing the whole model. #}
{% macro _safe_date(y, m, d) -%}
    case
        when ({{ m }}) between 1 and 12 and ({{ y }}) between 1800 and 2200 and ({{ d }}) between 1 and
             extract(day from make_date({{ y }}, {{ m }}, 1) + interval '1 month - 1 day')
        then make_date({{ y }}, {{ m }}, {{ d }})
    end
{%- endmacro %}

{# A date as organisations write it: ISO yyyy-mm-dd (APIs, XLSX cells, optionally with a time),
   dd/mm/yyyy, dd.mm.yyyy or dd-mm-yyyy (month first with order='mdy', the organisation's
   date_order), or an Excel serial number. A year alone, an impossible day (typed mm/dd) or
   anything else gives null: the year survives in vn_birth_year. #}
{% macro vn_date(expr, order='dmy') -%}
    {%- set day_part, month_part = (1, 2) if order == 'dmy' else (2, 1) -%}
    case
        when {{ expr }} ~ '^\s*\d{4}-\d{1,2}-\d{1,2}([ T].*)?$' then {{ _safe_date(
            "split_part(btrim(" ~ expr ~ "), '-', 1)::int",
            "split_part(btrim(" ~ expr ~ "), '-', 2)::int",
            "split_part(split_part(split_part(btrim(" ~ expr ~ "), '-', 3), ' ', 1), 'T', 1)::int") }}
        when {{ expr }} ~ '^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\s*$' then {{ _safe_date(
            "split_part(regexp_replace(btrim(" ~ expr ~ "), '[.-]', '/', 'g'), '/', 3)::int",
            "split_part(regexp_replace(btrim(" ~ expr ~ "), '[.-]', '/', 'g'), '/', " ~ month_part ~ ")::int",
            "split_part(regexp_replace(btrim(" ~ expr ~ "), '[.-]', '/', 'g'), '/', " ~ day_part ~ ")::int") }}
        -- Excel serials: day 1 = 1900-01-01 with Excel's 1900 leap-year bug, hence 1899-12-30.
        when {{ expr }} ~ '^\s*\d{4,5}(\.0+)?\s*$' and btrim({{ expr }})::numeric between 3000 and 80000
        then date '1899-12-30' + btrim({{ expr }})::numeric::int
    end
{%- endmacro %}

{# The birth year, also when only a year (yyyy) was written. #}
{% macro vn_birth_year(expr, order='dmy') -%}
    case
        when {{ expr }} ~ '^\s*\d{4}\s*$' and btrim({{ expr }})::int between 1880 and 2100 then btrim({{ expr }})::int
        else extract(year from {{ vn_date(expr, order) }})::int
    end
{%- endmacro %}

{# First day of a dues period or report month: yyyy-mm, mm/yyyy, or a year alone (yearly dues). #}
{% macro vn_period_start(expr) -%}
    case
        when {{ expr }} ~ '^\s*\d{4}-\d{1,2}\s*$' then {{ _safe_date(
            "split_part(btrim(" ~ expr ~ "), '-', 1)::int", "split_part(btrim(" ~ expr ~ "), '-', 2)::int", "1") }}
        when {{ expr }} ~ '^\s*\d{1,2}[/.-]\d{4}\s*$' then {{ _safe_date(
            "split_part(regexp_replace(btrim(" ~ expr ~ "), '[.-]', '/', 'g'), '/', 2)::int",
            "split_part(regexp_replace(btrim(" ~ expr ~ "), '[.-]', '/', 'g'), '/', 1)::int", "1") }}
        when {{ expr }} ~ '^\s*\d{4}\s*$' then {{ _safe_date("btrim(" ~ expr ~ ")::int", "1", "1") }}
    end
{%- endmacro %}

{# How many months a period covers: 12 for a year alone, else 1. #}
{% macro vn_period_months(expr) -%}
    case when {{ expr }} ~ '^\s*\d{4}\s*$' then 12 else 1 end
{%- endmacro %}

{# Digits only, for ID numbers and phones written with spaces, dots or dashes. #}
{% macro digits(expr) -%}
    nullif(regexp_replace({{ expr }}, '\D', '', 'g'), '')
{%- endmacro %}

{# A phone as 10 national digits: +84 / 84 prefix back to 0. #}
{% macro vn_phone(expr) -%}
    regexp_replace({{ digits(expr) }}, '^84(\d{9})$', '0\1')
{%- endmacro %}

{# Text functions cost microseconds a row (normalize, unaccent, regexp_replace: ~25 us for vn_key on
   this machine), hours of CPU over a province's dues and attendance. Rolls repeat their names, units,
   dates and periods, so staging derives a column's values in a lateral subquery on that one column,
   which PostgreSQL's Memoize node caches per distinct value (`values`: output name -> expression of
   `column`). It streams like the plain expressions, so a filter on batch_id still reaches the scan. #}
{% macro per_value(alias, values) -%}
left join lateral (
        select {% for name, expr in values.items() %}{{ expr }} as {{ name }}{{ ', ' if not loop.last }}{% endfor %}
        offset 0  -- keeps the subquery a separate node for Memoize to cache (not flattened into the scan)
    ) as {{ alias }} on true
{%- endmacro %}
