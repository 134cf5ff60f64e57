{# A commune's unit word starting a word of a key (lower case, no diacritics). The patterns using it
   keep one quantifier preference: PostgreSQL takes a whole pattern's greediness from its first one. #}
{% macro _commune_word() -%}
    (xa|phuong|thi tran|dac khu|x\.|p\.|tt\.?)\s
{%- endmacro %}

{# An old district's unit word starting a word of a key, as _commune_word. #}
{% macro _district_word() -%}
    (huyen|thi xa|thanh pho|quan|h\.|tx\.?|tp\.?)\s
{%- endmacro %}

{# A district key without its unit word ("huyen tan bien" -> "tan bien"): a district is matched
   written either way. #}
{% macro _bare_district(expr) -%}
    regexp_replace({{ expr }}, '^(huyen|thi xa|thanh pho|quan) ', '')
{%- endmacro %}

{# Each (commune_raw, roll_province) row of the relation `written` resolved to an administrative
   unit of the scheme it was written in, and to the new (2025) commune: directly, or through the
   crosswalk unless the old commune was split (int_admin__communes; a macro so that
   tests/integration/dbt/test_commune_resolution.py reads the linker's texts with it). #}
{% macro resolve_commune_texts(written) %}
with cut as (

    -- The text cut into parts as the linker's parser cuts it (lienthong.text.addresses): ';', '|' and
    -- ' - ' part like a comma; a leading hamlet ("Ấp 3, …", "Khu phố 2 Phường …") is no part; a
    -- district word after the commune starts a part ("Xã Bình Hiệp Thị xã Kiến Tường").
    select w.commune_raw, w.roll_province,
           regexp_replace(
               regexp_replace(
                   regexp_replace({{ vn_key('w.commune_raw') }}, '\s*[;|]\s*|\s+-\s+', ', ', 'g'),
                   -- a hamlet by its word, with or without a comma; a first part without a unit word
                   -- before one with a commune's ("Bắc Hòa, Xã …": a hamlet written bare)
                   '^((ap|khu pho|kp|to|khom)\.?(\s*(?!{{ _commune_word() }})[^\s,]+)*(\s*,\s*|\s+(?={{ _commune_word() }}))'
                   || '|(?!{{ _commune_word() }})[^,]*,\s*(?={{ _commune_word() }}))',
                   ''),
               '([^,\s])\s+(?={{ _district_word() }})', '\1, ') as key
    from {{ written }} as w

),

parts as (

    -- A last part naming a province ("…, Tỉnh Đồng Tháp", "…, Tây Ninh") narrows the names to its
    -- units; a second part may name the old district, with or without its unit word.
    select
        c.commune_raw,
        c.roll_province,
        {{ admin_name_key("split_part(c.key, ',', 1)") }} as name_key,
        {{ _bare_district(admin_name_key("split_part(c.key, ',', 2)")) }} as district_key,
        p.province_code as named_province
    from cut as c
    left join {{ ref('admin_provinces') }} as p
        -- the seeds hold the deployment's provinces only, as the parser knows no other: "…, Tỉnh
        -- Quảng Trị" is no province hint in Tây Ninh
        on c.key like '%,%'
        and regexp_replace(p.name_key, '^tinh ', '')
            = regexp_replace({{ admin_name_key("regexp_replace(c.key, '^.*,', '')") }}, '^tinh ', '')

),

unit_provinces as (

    -- Each unit's new province: its own, or for an old unit the new commune's it went to.
    select admin_unit_key, province_code from {{ ref('admin_units') }} where scheme = 'new'
    union
    select x.old_admin_unit_key, n.province_code from {{ ref('admin_crosswalk') }} as x
    join {{ ref('admin_units') }} as n on n.admin_unit_key = x.new_admin_unit_key

),

aliases as (

    -- The seeds hold the units of the deployment's provinces only (rendered from the organisation
    -- configs, lienthong.pipeline.dbt_generated): another province's names would make theirs ambiguous.
    select a.name_key, {{ _bare_district('a.district_key') }} as district_key_bare,
           a.admin_unit_key, u.scheme, p.province_code,
           replace(a.name_key, ' ', '') as plain_key,
           -- the unit's name as spelt, for its own name; a former name (the package's) has none
           case when replace(a.name_key, ' ', '') = replace({{ vn_key('u.name') }}, ' ', '')
                then lower(regexp_replace(u.name, '^(Xã|Phường|Thị trấn) ', '')) end as spelling
    from {{ ref('admin_unit_aliases') }} as a
    join {{ ref('admin_units') }} as u using (admin_unit_key)
    join unit_provinces as p using (admin_unit_key)

),

named as (

    -- An old name in the district written first, else a new name, else an old one (as the linker's
    -- parser: a district it does not know is no reason to refuse the name).
    select p.commune_raw, p.roll_province, p.named_province, a.admin_unit_key, a.province_code,
           case when a.scheme = 'old' and a.district_key_bare = p.district_key then 1
                when a.scheme = 'new' then 2
                else 3 end as preference,
           bool_or(a.province_code = p.roll_province
                   and (p.district_key is null or a.district_key_bare = p.district_key or a.scheme = 'new'))
               over (partition by p.commune_raw, p.roll_province)        as in_roll_province,
           a.spelling is null or position(a.spelling in lower(normalize(p.commune_raw, NFC))) > 0 as spelt_so,
           unaccent(p.commune_raw) <> p.commune_raw as has_marks
    from parts as p
    join aliases as a on a.plain_key = replace(p.name_key, ' ', '')
    where p.named_province is null or a.province_code = p.named_province

),

spelt as (

    -- A text written with diacritics keeps the names spelt as it is, and former names, where any is
    -- ("Tân Thạnh" is no "Tân Thành"), as the linker's parser does.
    select *, bool_or(spelt_so) over (partition by commune_raw, roll_province) as any_spelt_so from named

),

candidates as (

    -- No province written: the roll's decides when the name (in the district written, if any) is in
    -- it, as the linker's parser reads it (lienthong.text.addresses); a member living across the
    -- border writes the other's commune.
    select * from spelt
    where (named_province is not null or not in_roll_province or province_code = roll_province)
        and (not has_marks or spelt_so or not any_spelt_so)

),

spanned as (

    -- A name several provinces have, none named and no district to tell them apart: never guessed.
    select commune_raw, roll_province, count(distinct province_code) as n_provinces from candidates
    where preference is not null group by commune_raw, roll_province

),

best as (

    select commune_raw, roll_province, min(preference) as preference from candidates
    where preference is not null group by commune_raw, roll_province

),

chosen as (

    select c.commune_raw, c.roll_province, min(c.admin_unit_key) as admin_unit_key, count(*) as n_candidates
    from candidates as c join best as b using (commune_raw, roll_province, preference)
    group by c.commune_raw, c.roll_province

),

crosswalked as (

    select old_admin_unit_key, min(new_admin_unit_key) as new_admin_unit_key, bool_or(old_is_split) as old_is_split
    from {{ ref('admin_crosswalk') }} group by old_admin_unit_key

)

select
    w.commune_raw,
    w.roll_province,
    case when c.n_candidates = 1 and s.n_provinces = 1 then c.admin_unit_key end as admin_unit_key,
    case
        when c.admin_unit_key is null then 'unresolved'
        when c.n_candidates > 1 or s.n_provinces > 1 then 'ambiguous'
        when c.admin_unit_key like 'new:%' then 'new'
        when x.old_is_split then 'old_split'
        else 'old'
    end                                                                as resolution,
    case
        when c.n_candidates > 1 or s.n_provinces > 1 then null
        when c.admin_unit_key like 'new:%' then c.admin_unit_key
        when not x.old_is_split then x.new_admin_unit_key
    end                                                                as new_admin_unit_key,
    coalesce(x.old_is_split, false)                                    as old_is_split
from {{ written }} as w
left join chosen as c using (commune_raw, roll_province)
left join spanned as s using (commune_raw, roll_province)
left join crosswalked as x on x.old_admin_unit_key = c.admin_unit_key
{% endmacro %}
