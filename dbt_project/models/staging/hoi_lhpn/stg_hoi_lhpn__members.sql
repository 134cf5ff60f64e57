-- The Women's Union roll as delivered, one row per roster line, typed and cleaned.
with source as (

    select * from {{ source('hoi_lhpn', 'roster') }}

),

renamed as (

    select
        'hoi_lhpn'::text                                  as org_code,
        batch_id,
        delivery_date,
        row_number                                        as source_row_number,
        'hoi_lhpn:' || batch_id || ':' || row_number      as source_record_key,
        {{ vn_clean('full_name') }}                       as full_name,
        {{ vn_key('full_name') }}                         as name_key,
        {{ vn_date('birth_date') }}                       as birth_date,
        {{ vn_birth_year('birth_date') }}                 as birth_year,
        case {{ vn_key('sex') }}
            when 'nu' then 'F'
            when 'nam' then 'M'
        end                                               as sex,
        {{ digits('id_number') }}                         as id_number,
        {{ digits('phone') }}                             as phone,
        {{ vn_clean('hamlet') }}                          as hamlet_name,
        {{ vn_clean('commune') }}                         as commune_name,
        {{ vn_clean('unit_name') }}                       as unit_name,
        {{ vn_date('joined_on') }}                        as joined_on
    from source

)

select * from renamed
