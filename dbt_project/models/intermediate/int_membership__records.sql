{{ config(materialized='table', indexes=[{'columns': ['source_record_key'], 'unique': true},
                                          {'columns': ['member_key']}]) }}
-- Every membership record (int_membership__states) with the person it belongs to: the linked
-- person (identity's record → person) once linking has run, else the provisional key.
select
    coalesce(rp.person_id, {{ provisional_person_id('s.id_number', 's.name_key', 's.birth_year', 's.commune_name') }})
                                                                       as person_id,
    rp.person_id is not null                                           as person_is_linked,
    s.*
from {{ ref('int_membership__states') }} as s
left join {{ ref('stg_identity__record_person') }} as rp
    on rp.org_code = s.org_code and rp.source_record_key = s.source_record_key
