{# Staging macros: one per entity shape, called by the generated stg_<org>__<entity>.sql files
   (lienthong.pipeline.dbt_generated) with the canonical fields the organisation's config lands and
   its date order. A field an organisation does not send comes out as null, so every organisation's
   view of one shape has the same columns and unions cleanly. What differs by organisation (sex and
   change-type codes) comes from its config through org_config(). #}

{% macro _col(name, fields) -%}
    {{ name if name in fields else 'null::text' }}
{%- endmacro %}

{# Live rows only: a replaced batch's rows are deleted on landing, a duplicate batch never had rows,
   but joining the bookkeeping keeps staging right even mid-landing. #}
{% macro _live_rows(org, entity) -%}
    select r.*
    from {{ source(org, entity) }} as r
    join {{ source('landing', 'batches') }} as b on b.batch_id = r.batch_id and b.status = 'loaded'
{%- endmacro %}

{# The birth as written: a birth_date column, else a year-only birth_year column. #}
{% macro _birth_text(fields) -%}
    {{ 'birth_date' if 'birth_date' in fields else _col('birth_year', fields) }}
{%- endmacro %}

{# The member key within one organisation: its record id (member_code); organisations without one
   use md5(name key | birth date as written). The name and unit keys come from _key_values' laterals. #}
{% macro _member_key(org, fields) -%}
    {% if 'member_code' in fields -%}
        '{{ org }}:' || upper(btrim(member_code))
    {%- else -%}
        '{{ org }}:' || md5(concat_ws('|', name_v.text_key, btrim({{ _birth_text(fields) }})))
    {%- endif %}
{%- endmacro %}

{# The stable source record key (the contract with person linking): <org>:<member_code>, else
   <org>:md5(name key | birth date as written | unit name key). Same text every night for the same
   record; int_members__current appends #n to the 2nd.. exact duplicate in one unit. #}
{% macro _record_key(org, fields) -%}
    {% if 'member_code' in fields -%}
        '{{ org }}:' || upper(btrim(member_code))
    {%- else -%}
        '{{ org }}:' || md5(concat_ws('|', name_v.text_key, btrim({{ _birth_text(fields) }}), unit_v.text_key))
    {%- endif %}
{%- endmacro %}

{# The name (name_v) and unit (unit_v) keys and clean forms, once per distinct value (per_value): the
   keys of an organisation without member codes are built from them. `always` adds them also where
   the keys do not need them (the model shows the clean forms). #}
{% macro _key_values(fields, name_expr, always=false) -%}
    {%- if always or 'member_code' not in fields %}
    {{ per_value('name_v', {'text_key': vn_key(name_expr), 'text_clean': vn_clean(name_expr)}) }}
    {{ per_value('unit_v', {'text_key': vn_key(_col('unit_name', fields)), 'text_clean': vn_clean(_col('unit_name', fields))}) }}
    {%- endif %}
{%- endmacro %}

{# A date column as a date (vn_date) and, for births, a year (vn_birth_year, from that date: the date is
   read once), once per distinct text (per_value's Memoize). #}
{% macro _date_values(alias, expr, date_order, with_year=false) -%}
    {%- if with_year -%}
left join lateral (
        select date_value, {{ vn_birth_year(expr, date_order, date='date_value') }} as year_value
        from (select {{ vn_date(expr, date_order) }} as date_value offset 0) as date_read  -- not flattened: read once
        offset 0
    ) as {{ alias }} on true
    {%- else -%}
    {{ per_value(alias, {'date_value': vn_date(expr, date_order)}) }}
    {%- endif %}
{%- endmacro %}

{# The name as written: a full_name column, else the family, middle and given names' columns joined. #}
{% macro _full_name(fields) -%}
    {% if 'full_name' in fields or 'family_name' not in fields -%} {{ _col('full_name', fields) }}
    {%- else -%} nullif(concat_ws(' ', {% for part in ['family_name', 'middle_name', 'given_names'] if part in fields -%}
        btrim({{ part }}){{ ', ' if not loop.last }}{%- endfor %}), '')
    {%- endif %}
{%- endmacro %}

{% macro _sex(org, expr) -%}
    {%- set codes = org_config()[org]['sex_codes'] -%}
    case {{ vn_key(expr) }}
        {%- for written, sex in codes.items() %}
        when '{{ written }}' then '{{ sex }}'
        {%- endfor %}
    end
{%- endmacro %}

{% macro _change_kind(org, entity, fields) -%}
    {%- if 'change_type' in fields -%}
    case {{ vn_key('change_type') }}
        {%- for written, kind in org_config()[org]['change_kinds'].items() %}
        when '{{ written }}' then '{{ kind }}'
        {%- endfor %}
    end
    {%- else -%}
    {{ "'snapshot'" if entity == 'roster' else 'null::text' }}
    {%- endif %}
{%- endmacro %}

{# Where a staged row came from: organisation, landing batch, delivery day, line in the file. #}
{% macro _row_origin(org) -%}
    '{{ org }}'::text                                   as org_code,
    batch_id,
    delivery_date,
    row_number                                          as source_row_number
{%- endmacro %}

{# One address field, "hamlet, commune[, district]", cut into the hamlet and the rest (the commune
   text int_admin__communes resolves, as the linker's parser reads the two joined again). A hamlet
   by its word ends at a separator or, without one, before the commune's word ("Ấp 3 Xã Tân Lập",
   "Khu phố 2 - Phường 1"); else a first comma part is the hamlet, unless it is the commune
   itself ("Xã Tân Lập, Huyện Tân Biên": no hamlet). #}
{% macro _address_cut(expr) -%}
    select
        case when m.hamlet is not null then btrim(left(n.t, length(m.hamlet[1])))
             when n.t like '%,%' and not m.unit_first then btrim(split_part(n.t, ',', 1)) end as hamlet_text,
        case when m.hamlet is not null then nullif(btrim(substr(n.t, length(m.hamlet[1]) + length(m.hamlet[2]) + 1)), '')
             when n.t like '%,%' and not m.unit_first then btrim(substr(n.t, strpos(n.t, ',') + 1))
             else btrim(n.t) end as commune_text
    -- offset 0 on each step: computed once, where the planner would paste the regular expression
    -- into each of its uses (five matches a row)
    from (select normalize({{ expr }}, NFC) as t offset 0) as n
    -- Matched on the text without diacritics, which keeps every Vietnamese letter's place (the cut's
    -- lengths apply to the text as written); a text where it would not is not cut by hamlet word.
    cross join lateral (select lower(unaccent(n.t)) as k offset 0) as u
    cross join lateral (
        select case when length(u.k) = length(n.t) then regexp_match(u.k,
                   '^((?:ap|khu pho|kp|to|khom)\.?(?:\s*(?!{{ _commune_word() }})[^\s,;|-][^\s,;|]*)*)'
                   || '(\s*[,;|]\s*|\s+-\s+|\s+(?={{ _commune_word() }}))') end as hamlet,
               btrim(u.k) || ' ' ~ '^({{ _commune_word() }}|{{ _district_word() }})' as unit_first
        offset 0
    ) as m
{%- endmacro %}

{% macro stage_roster(org, entity, fields, date_order='dmy') %}
with source as (
    {{ _live_rows(org, entity) }}
),

located as (
    select
        source.*,
        {{ _full_name(fields) }} as full_name_text,
        {% if 'address' in fields and 'commune' not in fields -%}
        cut.hamlet_text,
        cut.commune_text
        {%- else -%}
        {{ _col('hamlet', fields) }} as hamlet_text,
        {{ _col('commune', fields) }} as commune_text
        {%- endif %}
    from source
    {% if 'address' in fields and 'commune' not in fields -%}
    -- once per distinct address (Memoize, as per_value): a roll repeats its hamlets and communes
    left join lateral ({{ _address_cut('source.address') }} offset 0) as cut on true
    {%- endif %}
)

select
    {{ _row_origin(org) }},
    '{{ entity }}'::text                                as entity,
    {{ _record_key(org, fields) }}                      as record_key,
    {{ _member_key(org, fields) }}                      as member_key,
    {{ _col('member_code', fields) }}                   as member_code,
    change_v.kind                                       as change_kind,
    changed_v.date_value                                as changed_on,
    full_name_text                                      as full_name_raw,
    name_v.text_clean                                   as full_name,
    name_v.text_key                                     as name_key,
    {{ _birth_text(fields) }}                           as birth_date_raw,
    birth_v.date_value                                  as birth_date,
    birth_v.year_value                                  as birth_year,
    sex_v.sex_code                                      as sex,
    {{ _col('sex', fields) }}                           as sex_raw,
    {{ _col('id_number', fields) }}                     as id_number_raw,
    {{ vn_person_id(_col('id_number', fields)) }}       as id_number,
    {{ _col('phone', fields) }}                         as phone_raw,
    phone_v.national                                    as phone,
    hamlet_text                                         as hamlet_raw,
    commune_text                                        as commune_raw,
    hamlet_v.text_clean                                 as hamlet_name,
    commune_v.text_clean                                as commune_name,
    {{ _col('unit_code', fields) }}                     as unit_code,
    unit_v.text_clean                                   as unit_name,
    employer_v.text_clean                               as employer,
    joined_v.date_value                                 as joined_on,
    end_reason_v.text_clean                             as end_reason
from located
{{ _key_values(fields, 'full_name_text', always=true) }}
{{ per_value('change_v', {'kind': _change_kind(org, entity, fields)}) }}
{{ _date_values('changed_v', _col('changed_on', fields), date_order) }}
{{ _date_values('birth_v', _birth_text(fields), date_order, with_year=true) }}
{{ per_value('sex_v', {'sex_code': _sex(org, _col('sex', fields))}) }}
{{ per_value('phone_v', {'national': vn_phone(_col('phone', fields))}) }}
{{ per_value('hamlet_v', {'text_clean': vn_clean('hamlet_text')}) }}
{{ per_value('commune_v', {'text_clean': vn_clean('commune_text')}) }}
{{ per_value('employer_v', {'text_clean': vn_clean(_col('employer', fields))}) }}
{{ _date_values('joined_v', _col('joined_on', fields), date_order) }}
{{ per_value('end_reason_v', {'text_clean': vn_clean(_col('end_reason', fields))}) }}
{% endmacro %}

{% macro stage_dues(org, entity, fields, date_order='dmy') %}
with source as (
    {{ _live_rows(org, entity) }}
)

select
    {{ _row_origin(org) }},
    {{ _record_key(org, fields) }}                      as record_key,
    {{ _member_key(org, fields) }}                      as member_key,
    period                                              as period_raw,
    period_v.period_start,
    period_v.period_months,
    amount_v.amount_vnd,
    paid_v.date_value                                   as paid_on
from source
{{ _key_values(fields, _full_name(fields)) }}
{{ per_value('period_v', {'period_start': vn_period_start('period'), 'period_months': vn_period_months('period')}) }}
{{ per_value('amount_v', {'amount_vnd': vn_amount(_col('amount', fields))}) }}
{{ _date_values('paid_v', _col('paid_on', fields), date_order) }}
{% endmacro %}

{% macro stage_activities(org, entity, fields, date_order='dmy') %}
with source as (
    {{ _live_rows(org, entity) }}
)

select
    {{ _row_origin(org) }},
    {{ _record_key(org, fields) }}                      as record_key,
    {{ _member_key(org, fields) }}                      as member_key,
    {{ _col('unit_code', fields) }}                     as unit_code,
    unit_v.text_clean                                   as unit_name,
    session_v.date_value                                as session_on,
    title_v.text_clean                                  as session_title
from source
{{ _key_values(fields, _full_name(fields), always=true) }}
{{ _date_values('session_v', 'session_on', date_order) }}
{{ per_value('title_v', {'text_clean': vn_clean(_col('session_title', fields))}) }}
{% endmacro %}

{% macro stage_reported_totals(org, entity, fields, date_order='dmy') %}
with source as (
    {{ _live_rows(org, entity) }}
)

select
    {{ _row_origin(org) }},
    {{ _col('unit_code', fields) }}                     as unit_code,
    {{ vn_clean(_col('unit_name', fields)) }}       as unit_name,
    {{ vn_clean(_col('commune', fields)) }}             as commune_name,
    month_v.report_month,
    {{ digits('reported_count') }}::int                 as reported_count
from source
{{ per_value('month_v', {'report_month': vn_period_start('month')}) }}
{% endmacro %}

{# Verification outcomes a unit returned (the filled verification list, lienthong.review.verification):
   the hidden key split into the period, rule and record it answers, the outcome as its code (the
   generated verification_outcome_kinds seed; a word not in the list was quarantined at landing), and
   the corrections as typed values. Unfilled rows have no outcome_code. #}
{% macro stage_verification_outcomes(org, entity, fields, date_order='dmy') %}
with source as (
    {{ _live_rows(org, entity) }}
),

keyed as (
    select source.*, regexp_match(btrim(flag_key), '^([^|]+)\|([^|]+)\|(.+)$') as key_parts
    from source
)

select
    {{ _row_origin(org) }},
    btrim(flag_key)                                     as flag_key,
    key_parts[1]                                        as period_key,
    key_parts[2]                                        as flag_kind,
    key_parts[3]                                        as source_record_key,
    kinds.outcome_code,
    coalesce(kinds.removes, false)                      as removes,
    {{ vn_person_id(_col('corrected_id_number', fields)) }} as corrected_id_number,
    {{ vn_date(_col('corrected_birth_date', fields), date_order) }} as corrected_birth_date,
    {{ vn_clean(_col('note', fields)) }}                as note,
    {{ vn_clean(_col('verified_by', fields)) }}         as verified_by,
    {{ vn_date(_col('verified_on', fields), date_order) }} as verified_on
from keyed
left join {{ ref('verification_outcome_kinds') }} as kinds
  on kinds.label_key = {{ vn_key(_col('outcome', fields)) }} or kinds.outcome_code = {{ vn_key(_col('outcome', fields)) }}
{% endmacro %}
