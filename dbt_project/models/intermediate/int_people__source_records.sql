-- What person linking reads: one row per current member record across all organisations, values
-- as delivered (linking does its own normalisation), except sex: F/M as staging read it with the
-- organisation's own sex codes (a 1/0 column, or a constant, means nothing to linking otherwise). source_record_key is stable across nights:
-- <org>:<member_code>, or without a record id md5(name key | birth date text | unit name key) (#n on an
-- identical second record in the same unit).
select
    org_code,
    source_record_key,
    full_name_raw   as full_name,
    birth_date_raw  as birth_date,
    sex,
    id_number_raw   as id_number,
    phone_raw       as phone,
    hamlet_raw      as hamlet,
    commune_raw     as commune
from {{ ref('int_membership__states') }}
where on_current_roll
