-- Communes of both schemes: keys carry the scheme ("old:25456", "new:25459") because codes are
-- reused with other names after the 2025 reform. Old communes point to their new commune unless split.
with crosswalk as (

    select old_admin_unit_key,
           case when not bool_or(old_is_split) then min(new_admin_unit_key) end as new_admin_unit_key,
           bool_or(old_is_split) as is_split,
           array_agg(new_admin_unit_key order by new_admin_unit_key) as new_admin_unit_keys
    from {{ ref('admin_crosswalk') }}
    group by old_admin_unit_key

)

select
    u.admin_unit_key,
    u.scheme,
    u.code,
    u.name,
    nullif(u.district_name, '') as district_name,
    u.province_code,
    case when u.scheme = 'new' then u.admin_unit_key else c.new_admin_unit_key end as new_admin_unit_key,
    coalesce(c.is_split, false) as is_split,
    case when u.scheme = 'new' then array[u.admin_unit_key] else c.new_admin_unit_keys end as new_admin_unit_keys
from {{ ref('admin_units') }} as u
left join crosswalk as c on c.old_admin_unit_key = u.admin_unit_key
