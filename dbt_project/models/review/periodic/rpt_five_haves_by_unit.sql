-- The five haves per unit (chi đoàn, chi hội, công đoàn cơ sở) and review period.
select
    period_key,
    org_code,
    unit_key,
    min(unit_name)                        as unit_name,
    min(commune_name)                     as commune_name,
    min(new_admin_unit_key)               as new_admin_unit_key,
    {{ five_haves_counts() }}
from {{ ref('int_review__record_flags') }}
group by period_key, org_code, unit_key
