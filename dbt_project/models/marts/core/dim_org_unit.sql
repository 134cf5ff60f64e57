-- Organisational units with history (from the snp_org_units snapshot): a unit renamed or moved to
-- another commune gets a new version; territorial units (hamlet chi hội/chi đoàn) and institutional
-- ones (agency, school, enterprise) hang under their commune.
select
    unit_key,
    org_code,
    unit_code,
    unit_name,
    unit_kind,
    case when unit_kind in ('hamlet', 'commune') then 'territorial' else 'institutional' end as unit_type,
    new_admin_unit_key                        as parent_admin_unit_key,
    dbt_valid_from::date                      as valid_from,
    dbt_valid_to::date                        as valid_to,
    dbt_valid_to is null                      as is_current
from {{ ref('snp_org_units') }}
