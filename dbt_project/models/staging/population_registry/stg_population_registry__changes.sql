-- The population database's changes (biến động dân cư), typed: one row per registered death or move
-- out of the province. The only model that reads the source; personal data like the rosters' staging.
select
    {{ vn_person_id('citizen_id') }}                                     as citizen_id,
    {{ vn_clean('full_name') }}                                          as full_name,
    {{ vn_date('birth_date') }}                                          as birth_date,
    case when {{ vn_key('sex') }} in ('f', 'nu') then 'F'
         when {{ vn_key('sex') }} in ('m', 'nam') then 'M' end          as sex,
    -- The extract's codes, or its Vietnamese words; anything else is kept for the tests to catch.
    case when {{ vn_key('change_kind') }} in ('died', 'khai tu', 'tu tran', 'chet') then 'died'
         when {{ vn_key('change_kind') }} in ('moved_away', 'xoa dang ky thuong tru', 'chuyen di')
         then 'moved_away'
         else {{ vn_key('change_kind') }} end                            as change_kind,
    {{ vn_date('changed_on') }}                                          as changed_on,
    nullif(btrim(commune_code), '')                                      as commune_code,
    'new:' || nullif(btrim(commune_code), '')                            as new_admin_unit_key
from {{ source('population_registry', 'changes') }}
