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
    {#- The month's length in integers: make_date + interval + extract was microseconds a call. #}
    case
        when ({{ m }}) between 1 and 12 and ({{ y }}) between 1800 and 2200 and ({{ d }}) between 1 and
             case when ({{ m }}) = 2
                  then case when ({{ y }}) % 4 = 0 and (({{ y }}) % 100 <> 0 or ({{ y }}) % 400 = 0) then 29 else 28 end
                  when ({{ m }}) in (4, 6, 9, 11) then 30 else 31 end
        then make_date({{ y }}, {{ m }}, {{ d }})
    end
{%- endmacro %}

{# A date as organisations write it, read as lienthong.text.dates reads it (the landing's check lets
   through only what that parser reads; tests/integration/dbt/test_text_macros.py holds the two
   together on every layout): dd/mm/yyyy with / . or - (spaces around them allowed, a time of day
   after), month first with order='mdy' (the organisation's date_order); yyyy-mm-dd, yyyy/mm/dd,
   yyyy.mm.dd; "ngày 12 tháng 5 năm 1985"; an Excel serial number (whole, or with .0). Where the
   written order gives no calendar day and the other order does (a typed mm/dd, a yyyy-dd-mm export),
   the other order. A year alone or anything else gives null: the year survives in vn_birth_year. #}
{% macro vn_date(expr, order='dmy') -%}
    {%- set time = "(?:[ tT]\\d{1,2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?)?" -%}
    {%- set first_month, first_day = ('day_first[2]', 'day_first[1]') if order == 'dmy' else ('day_first[1]', 'day_first[2]') -%}
    {%- set part = "substr(" ~ expr ~ ", {}, {})" -%}
    {#- Most dates are written in one fixed-width layout (dd/mm/yyyy, dd.mm.yyyy, yyyy-mm-dd), or are
        empty or a spreadsheet's serial: read without the general reader's subquery and regular
        expressions, which give these texts the same days. #}
    case when {{ expr }} is null then null::date
         when {{ expr }} ~ '^[0-9]{2}[/.-][0-9]{2}[/.-][0-9]{4}$'
         then {{ _either_order(part.format(7, 4), part.format(4 if order == 'dmy' else 1, 2), part.format(1 if order == 'dmy' else 4, 2)) }}
         when {{ expr }} ~ '^[0-9]{4}[/.-][0-9]{2}[/.-][0-9]{2}$'
         then {{ _either_order(part.format(1, 4), part.format(6, 2), part.format(9, 2)) }}
         when {{ expr }} ~ '^[0-9]{1,6}$' then {{ _excel_serial(expr) }}
         else (select coalesce(
        {{ _either_order('day_first[3]', first_month, first_day) }},
        {{ _either_order('year_first[1]', 'year_first[2]', 'year_first[3]') }},
        {{ _either_order('in_words[3]', 'in_words[2]', 'in_words[1]') }},
        case when length(serial[1]) <= 6 then {{ _excel_serial('serial[1]') }} end)
     from (select btrim({{ expr }}, E' \t\r\n\u00a0') as date_text) as date_in
     cross join lateral (select
        regexp_match(date_text, '^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}){{ time }}$') as day_first,
        regexp_match(date_text, '^(\d{4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,2}){{ time }}$') as year_first,
        -- punctuation as space, as the Python parser's name key has it
        regexp_match(btrim(regexp_replace(lower(unaccent(normalize(date_text, NFC))), '[^a-z0-9]+', ' ', 'g')),
                     '^ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})$') as in_words,
        regexp_match(date_text, '^(\d+)(?:\.0+)?$') as serial) as date_parts) end
{%- endmacro %}

{# An Excel serial (digits, at most six) as a day: day 1 = 1900-01-01 with Excel's 1900 leap-year bug,
   hence 1899-12-30; a number that reads as a year is none. #}
{% macro _excel_serial(digits) -%}
    case when ({{ digits }})::int between 61 and 73415 and ({{ digits }})::int not between 1900 and 2100
         then date '1899-12-30' + ({{ digits }})::int end
{%- endmacro %}

{# The day of regexp groups (text) year, month, day; else of day and month the other way round. #}
{% macro _either_order(y, m, d) -%}
    coalesce({{ _safe_date(y ~ "::int", m ~ "::int", d ~ "::int") }}, {{ _safe_date(y ~ "::int", d ~ "::int", m ~ "::int") }})
{%- endmacro %}

{# The birth year, also when only a year (yyyy, or yyyy.0 from a spreadsheet) was written; `date`: the
   text's vn_date where the caller has it already (read once, not twice). #}
{% macro vn_birth_year(expr, order='dmy', date=none) -%}
    case
        when {{ expr }} ~ '^\s*\d{4}(\.0+)?\s*$' and split_part(btrim({{ expr }}), '.', 1)::int between 1900 and 2100
        then split_part(btrim({{ expr }}), '.', 1)::int
        else extract(year from {{ date or vn_date(expr, order) }})::int
    end
{%- endmacro %}

{# A dues period or report month, read as lienthong.text.periods reads it (the landing quarantines
   what that cannot read; tests/integration/dbt/test_text_macros.py holds the two together): a month
   (10/2026, 2026-10, tháng 10/2026, T10/2026, an ISO day's month), a quarter (Quý 4/2026, Q4-2026,
   quý IV năm 2026) or a year (2026, Năm 2026). vn_period_start: the first day; vn_period_months:
   1, 3 or 12. #}
{% macro vn_period_start(expr) -%}
    {{ _vn_period(expr, 'start') }}
{%- endmacro %}

{% macro vn_period_months(expr) -%}
    {{ _vn_period(expr, 'months') }}
{%- endmacro %}

{% macro _vn_period(expr, part) -%}
    (select
    {%- if part == 'start' %}
        case
            when month_year is not null then {{ _safe_date('month_year[2]::int', 'month_year[1]::int', '1') }}
            when year_month is not null and coalesce(year_month[3]::int, 1) between 1 and 31
            then {{ _safe_date('year_month[1]::int', 'year_month[2]::int', '1') }}
            when quarter is not null then {{ _safe_date('quarter[2]::int', "3 * (case quarter[1] when 'i' then 1 when 'ii' then 2 when 'iii' then 3 when 'iv' then 4 else quarter[1]::int end) - 2", '1') }}
            when year is not null then {{ _safe_date('year[1]::int', '1', '1') }}
        end
    {%- else %}
        case when month_year is not null or year_month is not null then 1 when quarter is not null then 3
             when year is not null then 12 end
    {%- endif %}
     from (select btrim(regexp_replace(lower(unaccent(normalize({{ expr }}, NFC))), '[^a-z0-9]+', ' ', 'g'))
                  as period_key) as period_in
     cross join lateral (select
        regexp_match(period_key, '^(?:thang |t ?)?(\d{1,2}) (?:nam )?(\d{4})$') as month_year,
        regexp_match(period_key, '^(\d{4}) (\d{1,2})(?: (\d{1,2}))?$') as year_month,
        regexp_match(period_key, '^(?:quy |q ?)(\d|i{1,3}|iv) (?:nam )?(\d{4})$') as quarter,
        regexp_match(period_key, '^(?:nam )?(\d{4})$') as year) as period_parts)
{%- endmacro %}

{# Digits only, for ID numbers and phones written with spaces, dots or dashes. #}
{% macro digits(expr) -%}
    nullif(regexp_replace({{ expr }}, '\D', '', 'g'), '')
{%- endmacro %}

{# A CCCD / CMND as lienthong.text.ids reads it (the landing sets aside what that cannot read): its
   digits, spaces, dots, dashes and a spreadsheet's trailing .0 dropped, and the leading zero a
   numeric Excel cell ate put back (11 digits are a CCCD, 8 a CMND). Other lengths are kept as
   written, for the review to flag. tests/integration/dbt/test_text_macros.py holds the two together. #}
{% macro vn_person_id(expr) -%}
    {#- one expression, not a subquery: PostgreSQL ran that as a subplan per row #}
    regexp_replace({{ digits("regexp_replace(btrim(" ~ expr ~ "), '^(\\d+)\\.0+$', '\\1')") }}, '^(\d{8}|\d{11})$', '0\1')
{%- endmacro %}

{# An amount in đồng: its digits (thousands separators of either kind dropped), less a decimal part
   of one or two digits ("20000.0" from a spreadsheet, "20.000,50"): đồng have no minor unit. #}
{% macro vn_amount(expr) -%}
    {{ digits("regexp_replace(btrim(" ~ expr ~ "), '[.,]\\d{1,2}$', '')") }}::numeric
{%- endmacro %}

{# A mobile phone as lienthong.text.phones reads it (the linker's reading): separators and a
   spreadsheet's .0 dropped, +84 / 0084 / 84 back to 0, the leading zero a numeric Excel cell ate put
   back, the 11-digit numbers retired in 2018 rewritten to their new prefix. What that does not read
   as one mobile number (two numbers in a cell, a landline, a wrong length) keeps its digits, as
   written, for the review to flag. tests/integration/dbt/test_text_macros.py holds the two together. #}
{% macro vn_phone(expr) -%}
    {#- Most phones are written as the ten national digits already: kept without the general reading. #}
    case when {{ expr }} is null then null::text when {{ expr }} ~ '^0[35789][0-9]{8}$' then {{ expr }} else
    (select case when national ~ '^0[35789][0-9]{8}$' then national
                 else regexp_replace({{ digits('phone_text') }}, '^84(\d{9})$', '0\1') end
     from (select case when length(plain) = 11 and retired.new_prefix is not null
                       then retired.new_prefix || substr(plain, 5) else plain end as national, phone_text
           from (select phone_text, case
                    when (select count(*) from unnest(regexp_split_to_array(phone_text, '[/,;|]')) as part
                          where btrim(part) <> '') > 1 then null  -- two numbers in one cell
                    when compact !~ '^[0-9]+$' then null
                    when compact ~ '^0084' then '0' || ltrim(substr(compact, 5), '0')
                    when compact ~ '^84' and length(compact) in (11, 12, 13) then '0' || ltrim(substr(compact, 3), '0')
                    when compact ~ '^[1-9]' and length(compact) in (9, 10) then '0' || compact
                    else compact end as plain
                 from (select phone_text, regexp_replace(regexp_replace(regexp_replace(phone_text,
                          '^(\d+)\.0+$', '\1'), '[\s.()-]', '', 'g'), '^\+', '') as compact
                       -- offset 0: each step computed once, not pasted into every use by the planner
                       from (select btrim({{ expr }}) as phone_text) as phone_in offset 0) as phone_compact
                 offset 0) as phone_plain
           left join (values ('0162', '032'), ('0163', '033'), ('0164', '034'), ('0165', '035'), ('0166', '036'),
                             ('0167', '037'), ('0168', '038'), ('0169', '039'), ('0120', '070'), ('0121', '079'),
                             ('0122', '077'), ('0126', '076'), ('0128', '078'), ('0123', '083'), ('0124', '084'),
                             ('0125', '085'), ('0127', '081'), ('0129', '082'), ('0186', '056'), ('0188', '058'),
                             ('0199', '059')) as retired(old_prefix, new_prefix)
             on retired.old_prefix = left(plain, 4)) as phone_national) end
{%- endmacro %}

{# A phone no one has: one digit six times in a row or a run of the keypad (0900000000, 0123456789),
   what a clerk types when the form wants a number. The linker reads phones the same way
   (lienthong.text.phones.is_placeholder_phone: not person evidence); test_text_macros.py holds the two
   together. The digit repeated is spelt out (0{6}|1{6}|...), not a back-reference ((\d)\1{5,}), which
   puts PostgreSQL's regex engine on its slow path: 124,293 distinct numbers (400k sample) in 2.6 s,
   not 0.27 s, every night. #}
{% macro vn_placeholder_phone(expr) -%}
    ({{ expr }} ~ '{% for d in range(10) %}{{ d }}{6}|{% endfor %}0123456|1234567|2345678|3456789|9876543|8765432|7654321')
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
