{{ config(materialized='table') }}
-- A table, not a view: the resolution joins every alias, and the current roll joins it for every record.
-- Every commune text written on a roll, per roll province (roll_province: the province its
-- organisation's config names, '' when none), resolved to an administrative unit of the scheme it
-- was written in, and to the new (2025) commune: directly, or through the crosswalk unless the old
-- commune was split (then flagged, the new commune left open).
with written as (

    select distinct commune_raw, {{ roll_province('org_code') }} as roll_province
    from {{ ref('int_roster__events') }} where commune_raw is not null
    union
    -- Units report their totals with the commune written their own way: resolve those too.
    select distinct commune_name, {{ roll_province('org_code') }}
    from {{ ref('int_reported_totals') }} where commune_name is not null

),

parts as (

    -- The province first: a last part naming one ("…, Tỉnh Đồng Tháp") narrows the names to its units.
    select
        w.commune_raw,
        w.roll_province,
        {{ admin_name_key("split_part(w.commune_raw, ',', 1)") }} as name_key,
        case when p.province_code is null or w.commune_raw like '%,%,%'
             then {{ admin_name_key("split_part(w.commune_raw, ',', 2)") }} end as district_key,
        p.province_code as named_province
    from written as w
    left join {{ ref('admin_provinces') }} as p
        on w.commune_raw like '%,%' and p.name_key = {{ admin_name_key("regexp_replace(w.commune_raw, '^.*,', '')") }}

),

unit_provinces as (

    -- Each unit's new province: its own, or for an old unit the new commune's it went to.
    select admin_unit_key, province_code from {{ ref('admin_units') }} where scheme = 'new'
    union
    select x.old_admin_unit_key, n.province_code from {{ ref('admin_crosswalk') }} as x
    join {{ ref('admin_units') }} as n on n.admin_unit_key = x.new_admin_unit_key

),

aliases as (

    -- Only the units of the deployment's provinces (var provinces): the seeds hold every province
    -- the project knows, whose names would make this one's ambiguous.
    select a.name_key, a.district_key, a.admin_unit_key, u.scheme, p.province_code
    from {{ ref('admin_unit_aliases') }} as a
    join {{ ref('admin_units') }} as u using (admin_unit_key)
    join unit_provinces as p using (admin_unit_key)
    where p.province_code in ({{ provinces_sql() }})

),

named as (

    -- A district written means the old scheme; otherwise a new name first, else an old one.
    select p.commune_raw, p.roll_province, p.named_province, a.admin_unit_key, a.province_code,
           case when p.district_key is not null and a.district_key = p.district_key then 1
                when p.district_key is null and a.scheme = 'new' then 2
                when p.district_key is null then 3 end as preference,
           bool_or(a.province_code = p.roll_province and (p.district_key is null or a.district_key = p.district_key))
               over (partition by p.commune_raw, p.roll_province)        as in_roll_province
    from parts as p
    join aliases as a on a.name_key = p.name_key
    where p.named_province is null or a.province_code = p.named_province

),

candidates as (

    -- No province written: the roll's decides when the name (in the district written, if any) is in
    -- it, as the linker's parser reads it (lienthong.text.addresses); a member living across the
    -- border writes the other's commune.
    select * from named
    where named_province is not null or not in_roll_province or province_code = roll_province

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
from written as w
left join chosen as c using (commune_raw, roll_province)
left join spanned as s using (commune_raw, roll_province)
left join crosswalked as x on x.old_admin_unit_key = c.admin_unit_key
