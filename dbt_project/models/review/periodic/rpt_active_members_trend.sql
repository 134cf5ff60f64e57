-- Members on the roll and active (paid dues or attended) per organisation and month.
select
    org_code,
    month_start,
    count(*) filter (where on_roll)                              as on_roll,
    count(*) filter (where on_roll and (dues_paid or attended))  as active
from {{ ref('fct_member_month') }}
group by 1, 2
