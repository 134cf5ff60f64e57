{{ config(materialized='table') }}
-- A table, not a view: the resolution joins every alias, and the current roll joins it for every record.
-- Every commune text written on a roll, resolved to an administrative unit of the scheme it was
-- written in, and to the new (2025) commune: directly, or through the crosswalk unless the old
-- commune was split (then flagged, the new commune left open).
with written as (

    select distinct commune_raw from {{ ref('int_roster__events') }} where commune_raw is not null
    union
    -- Units report their totals with the commune written their own way: resolve those too.
    select distinct commune_name from {{ ref('int_reported_totals') }} where commune_name is not null

),

parts as (

    select
        commune_raw,
        {{ admin_name_key("split_part(commune_raw, ',', 1)") }} as name_key,
        {{ admin_name_key("split_part(commune_raw, ',', 2)") }} as district_key
    from written

),

in_provinces as (

    -- The units of the deployment's provinces (var provinces), old ones by the new commune they went to.
    select admin_unit_key from {{ ref('admin_units') }}
    where scheme = 'new' and province_code in ({{ provinces_sql() }})
    union
    select x.old_admin_unit_key from {{ ref('admin_crosswalk') }} as x
    join {{ ref('admin_units') }} as n on n.admin_unit_key = x.new_admin_unit_key
    where n.province_code in ({{ provinces_sql() }})

),

aliases as (

    select a.*, u.scheme from {{ ref('admin_unit_aliases') }} as a
    join {{ ref('admin_units') }} as u using (admin_unit_key)
    join in_provinces using (admin_unit_key)

),

candidates as (

    -- A district written means the old scheme; otherwise a new name first, else an old one.
    select p.commune_raw, a.admin_unit_key,
           case when p.district_key is not null and a.district_key = p.district_key then 1
                when p.district_key is null and a.scheme = 'new' then 2
                when p.district_key is null then 3 end as preference
    from parts as p
    join aliases as a on a.name_key = p.name_key

),

best as (

    select commune_raw, min(preference) as preference from candidates
    where preference is not null group by commune_raw

),

chosen as (

    select c.commune_raw, min(c.admin_unit_key) as admin_unit_key, count(*) as n_candidates
    from candidates as c join best as b using (commune_raw, preference)
    group by c.commune_raw

),

crosswalked as (

    select old_admin_unit_key, min(new_admin_unit_key) as new_admin_unit_key, bool_or(old_is_split) as old_is_split
    from {{ ref('admin_crosswalk') }} group by old_admin_unit_key

)

select
    w.commune_raw,
    case when c.n_candidates = 1 then c.admin_unit_key end             as admin_unit_key,
    case
        when c.admin_unit_key is null then 'unresolved'
        when c.n_candidates > 1 then 'ambiguous'
        when c.admin_unit_key like 'new:%' then 'new'
        when x.old_is_split then 'old_split'
        else 'old'
    end                                                                as resolution,
    case
        when c.n_candidates > 1 then null
        when c.admin_unit_key like 'new:%' then c.admin_unit_key
        when not x.old_is_split then x.new_admin_unit_key
    end                                                                as new_admin_unit_key,
    coalesce(x.old_is_split, false)                                    as old_is_split
from written as w
left join chosen as c using (commune_raw)
left join crosswalked as x on x.old_admin_unit_key = c.admin_unit_key
