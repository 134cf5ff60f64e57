-- The five haves per organisation and review period: how many on the roll meet each, and all five.
select
    period_key,
    org_code,
    {{ five_haves_counts() }},
    round(count(*) filter (where has_dues)::numeric / nullif(count(has_dues), 0), 4)             as dues_rate,
    round(count(*) filter (where has_attendance)::numeric / nullif(count(has_attendance), 0), 4) as attendance_rate
from {{ ref('int_review__record_flags') }}
group by period_key, org_code
