-- Membership over time: each version of a record (unit, commune, person, roll status) with its
-- validity, from the snp_memberships snapshot taken every build. A transfer between units is one
-- record with two versions; leaving closes the last version.
select
    source_record_key,
    person_id,
    org_code,
    unit_key,
    new_admin_unit_key,
    on_current_roll,
    joined_on,
    ended_on,
    dbt_valid_from                            as valid_from,
    dbt_valid_to                              as valid_to,
    dbt_valid_to is null                      as is_current
from {{ ref('snp_memberships') }}
