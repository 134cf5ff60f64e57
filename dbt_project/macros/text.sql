{# Matching key for Vietnamese text: NFC first (NFD input from old tools), then accents off
   (unaccent maps đ to d), lower case, single spaces. Displayed text keeps its diacritics. #}
{% macro vn_key(expr) -%}
    nullif(lower(regexp_replace(btrim(unaccent(normalize({{ expr }}, NFC))), '\s+', ' ', 'g')), '')
{%- endmacro %}

{# Display form: NFC and single spaces, diacritics kept. #}
{% macro vn_clean(expr) -%}
    nullif(regexp_replace(btrim(normalize({{ expr }}, NFC)), '\s+', ' ', 'g'), '')
{%- endmacro %}

{# A date written dd/mm/yyyy (or d-m-yyyy); anything else or an impossible day gives null. #}
{% macro vn_date(expr) -%}
    case
        when {{ expr }} ~ '^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\s*$' then (
            select case
                when m between 1 and 12 and d between 1 and 31
                     and d <= extract(day from (make_date(y, m, 1) + interval '1 month - 1 day'))
                then make_date(y, m, d)
            end
            from (
                select split_part(p, '/', 1)::int as d, split_part(p, '/', 2)::int as m,
                       split_part(p, '/', 3)::int as y
                from (select regexp_replace(btrim({{ expr }}), '[.-]', '/', 'g') as p) as parts
            ) as dmy
        )
    end
{%- endmacro %}

{# The birth year, also when only a year (yyyy) was written. #}
{% macro vn_birth_year(expr) -%}
    case
        when {{ expr }} ~ '^\s*\d{4}\s*$' then btrim({{ expr }})::int
        else extract(year from {{ vn_date(expr) }})::int
    end
{%- endmacro %}

{# Digits only, for ID numbers and phones written with spaces, dots or dashes. #}
{% macro digits(expr) -%}
    nullif(regexp_replace({{ expr }}, '\D', '', 'g'), '')
{%- endmacro %}
