-- Members and distinct people per organisation and commune: the first periodic review view.
select
    org_code,
    coalesce(commune_name, '(không rõ)')  as commune_name,
    count(*)                              as roll_count,
    count(distinct person_id)             as distinct_people,
    max(as_of_date)                       as as_of_date
from {{ ref('fct_membership') }}
group by 1, 2
