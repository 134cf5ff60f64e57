-- What person linking reads: one row per current member record across all organisations, values
-- as delivered (linking does its own normalisation). source_record_key is stable across nights:
-- <org>:<member_code>, or for hoi_lhpn md5(name key | birth date text | unit name key) (#n on an
-- identical second record in the same unit).
select
    org_code,
    source_record_key,
    full_name_raw   as full_name,
    birth_date_raw  as birth_date,
    sex_raw         as sex,
    id_number_raw   as id_number,
    phone_raw       as phone,
    hamlet_raw      as hamlet,
    commune_raw     as commune
from {{ ref('int_membership__states') }}
where on_current_roll
