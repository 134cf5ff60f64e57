-- The current roll (latest delivered batch) with a provisional person key. Until
-- cross-organisation linking lands (the identity schema), a person is one valid citizen ID, or
-- else one (name key, birth year, commune).
with members as (

    select * from {{ ref('stg_hoi_lhpn__members') }}
    where batch_id = (select max(batch_id) from {{ ref('stg_hoi_lhpn__members') }})

)

select
    md5(
        case
            when id_number ~ '^\d{12}$' then 'cccd:' || id_number
            else 'name:' || coalesce(name_key, '') || '|' || coalesce(birth_year::text, '')
                 || '|' || coalesce({{ vn_key('commune_name') }}, '')
        end
    ) as person_id,
    *
from members
