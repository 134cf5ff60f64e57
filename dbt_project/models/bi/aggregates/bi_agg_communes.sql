-- The new (2025) communes and the old communes they replace (an old commune split across several
-- new ones is listed under each), so people find their commune under either name. Public reference
-- data, no counts: an agg_* table so every analyst, and the public pages, may read it.
{{ config(alias='agg_communes') }}

with old_names as (

    select
        x.new_admin_unit_key,
        string_agg(o.name || coalesce(' (' || nullif(o.district_name, '') || ')', ''), '; '
                   order by o.name, o.district_name)                    as old_names
    from {{ ref('admin_crosswalk') }} as x
    join {{ ref('admin_units') }} as o on o.admin_unit_key = x.old_admin_unit_key
    group by x.new_admin_unit_key

)

select
    u.admin_unit_key                 as commune_key,
    u.code                           as commune_code,
    u.name                           as commune_name,
    coalesce(n.old_names, '')        as old_names
from {{ ref('admin_units') }} as u
left join old_names as n on n.new_admin_unit_key = u.admin_unit_key
where u.scheme = 'new'
