{{ config(materialized='table', indexes=[{'columns': ['source_record_key'], 'unique': true},
                                          {'columns': ['member_key']}]) }}
-- Every membership record (int_membership__states) with the person it belongs to: the linked
-- person (identity.record_person) once linking has run, else the provisional key.
-- depends_on: {{ source('identity', 'record_person') }}
{% set linked = identity_ready() %}
select
    {% if linked %}coalesce(rp.person_id, {{ provisional_person_id('s.id_number', 's.name_key', 's.birth_year', 's.commune_name') }})
    {% else %}{{ provisional_person_id('s.id_number', 's.name_key', 's.birth_year', 's.commune_name') }}
    {% endif %}                                                        as person_id,
    {{ 'rp.person_id is not null' if linked else 'false' }}            as person_is_linked,
    s.*
from {{ ref('int_membership__states') }} as s
{% if linked %}
left join {{ source('identity', 'record_person') }} as rp
    on rp.org_code = s.org_code and rp.source_record_key = s.source_record_key
{% endif %}
