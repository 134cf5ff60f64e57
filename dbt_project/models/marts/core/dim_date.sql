-- The calendar, one row per day.
select
    d::date                                   as date_day,
    date_trunc('month', d)::date              as month_start,
    extract(year from d)::int                 as year,
    extract(quarter from d)::int              as quarter,
    extract(month from d)::int                as month,
    extract(isodow from d)::int               as iso_weekday,
    to_char(d, 'MM/YYYY')                     as month_label
from generate_series(date '{{ var("calendar_start") }}', date '{{ var("calendar_end") }}', interval '1 day') as d
