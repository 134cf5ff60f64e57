{{ config(materialized='table') }}
-- A table, not a view: the resolution joins every alias, and the current roll joins it for every record.
-- Every commune text written on a roll, per roll province (roll_province: the province its
-- organisation's config names, '' when none), resolved (resolve_commune_texts) to an administrative
-- unit and to the new (2025) commune, or flagged when the old commune was split.
with written as (

    select distinct commune_raw, {{ roll_province('org_code') }} as roll_province
    from {{ ref('int_roster__events') }} where commune_raw is not null
    union
    -- Units report their totals with the commune written their own way: resolve those too.
    select distinct commune_name, {{ roll_province('org_code') }}
    from {{ ref('int_reported_totals') }} where commune_name is not null

)

select * from ({{ resolve_commune_texts('written') }}) as resolved
