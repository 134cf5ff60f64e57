{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          indexes=[{'columns': ['source_record_key'], 'unique': true}, {'columns': ['member_key']}],
          pre_hook="{% if is_incremental() %}{{ delete_records_to_rebuild() }}{% endif %}") }}
-- Every membership record (int_membership__states) with the person it belongs to: the linked
-- person (identity's record → person) once linking has run, else the provisional key.
-- Incremental per record: a pre-hook (delete_records_to_rebuild) deletes the records whose state or
-- linked person differs from what the states and linking now say; the model adds the states'
-- records it no longer holds. A full rebuild gives the same rows.
select
    coalesce(rp.person_id, {{ provisional_person_id('s.id_number', 's.name_key', 's.birth_year', 's.commune_name') }})
                                                                       as person_id,
    rp.person_id is not null                                           as person_is_linked,
    s.*
from {{ ref('int_membership__states') }} as s
left join {{ ref('stg_identity__record_person') }} as rp
    on rp.org_code = s.org_code and rp.source_record_key = s.source_record_key
{% if is_incremental() %}
where not exists (select 1 from {{ this }} as r where r.source_record_key = s.source_record_key)
{% endif %}
