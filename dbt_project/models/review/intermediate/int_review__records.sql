-- An index on the period alone: a night's readers take the rebuilt month's rows by it (1 of 12 months;
-- review_periods_rebuilt() writes the keys as constants); a first build's readers scan it all.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', indexes=[{'columns': ['period_key']}],
          pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
{% set sex_rules = {} %}
{% for org, config in org_config().items() %}{% if config['eligibility'].sex %}{% do sex_rules.update({org: config['eligibility'].sex}) %}{% endif %}{% endfor %}
{# A record is on a roll at a period's end when it started by the period's last day and had not
   ended before its last month (record r, period p). #}
{% set on_roll_at_end %}coalesce(r.started_on, r.joined_on, '1900-01-01'::date) <= p.last_day
     and (r.ended_on is null or r.ended_on >= p.last_month){% endset %}
-- Every roster record on a roll at the end of each review month (the months that end the review
-- periods: a quarter's or a year's records are its last month's; macros/review.sql, review_month_key),
-- with the evidence the ghost rules read (int_review__record_flags): identity, ages, duplicates,
-- departures (reported by another organisation or registered in the population database),
-- eligibility, dues and attendance. A record is on the rolls of most months: what does not depend on
-- the month is computed once per record (record_facts), and only the few people with several records
-- in one organisation, or a departure, are matched to months for those facts (no sort of every row).
with periods as (

    select * from {{ review_months_rebuilt() }} as months

),

-- Scanned by each reader (most take a few columns) rather than stored: materialised, the province's
-- 1.6M wide records went to a temporary file and back.
records as not materialized (

    select * from {{ ref('int_membership__records') }}

),

-- People with several records in one organisation: grouped on the two keys (a window over the
-- records sorted every wide row on disk, at the province 25 of the night's 74 s).
several_in_org as (

    select org_code, person_id
    from records
    group by org_code, person_id
    having count(*) > 1

),

record_facts as (

    select
        r.*,
        o.sends_dues,
        o.sends_activities,
        coalesce(dp.organisation_count, 1)                                                   as person_organisations,
        case when r.id_number ~ '^\d{12}$'
             then case when substr(r.id_number, 4, 1)::int % 2 = 0 then 'M' else 'F' end end as id_sex,
        case when r.id_number ~ '^\d{12}$'
             then 1900 + (substr(r.id_number, 4, 1)::int / 2) * 100 + substr(r.id_number, 5, 2)::int end
                                                                                           as id_birth_year,
        -- Has a real person: an ID of a valid shape, or the same person found in another organisation.
        (r.id_number ~ '^(\d{12}|\d{9})$' or coalesce(dp.organisation_count, 1) > 1)         as has_person,
        (r.full_name is not null and r.full_name ~ '\S+\s+\S+')                              as has_name,
        (r.unit_name is not null)                                                            as has_unit,
        -- The organisation's sex rule (its config's eligibility) broken by the record's own sex.
        {% if sex_rules %}(r.sex is not null and case r.org_code
            {%- for org, sex in sex_rules.items() %} when '{{ org }}' then r.sex <> '{{ sex }}'{% endfor %}
            else false end){% else %}false{% endif %}                                             as breaks_sex_rule
    from records as r
    join {{ ref('organisations') }} as o using (org_code)
    left join {{ ref('dim_person') }} as dp using (person_id)

),

-- The person's second (third, ...) record in the organisation on the roll at the period's end,
-- ordered by joining: numbered among the people with several records in one organisation only.
-- Read from the records: record_facts, read once, is not stored (with a second reader here, the
-- province's 1.6M wide rows went to a temporary file and back).
duplicates as (

    select period_key, source_record_key
    from (
        select p.period_key, r.source_record_key,
               row_number() over (partition by p.period_key, r.org_code, r.person_id
                                  order by r.joined_on nulls last, r.source_record_key) as nth_in_org
        from periods as p
        join records as r on {{ on_roll_at_end }}
        join several_in_org as several on several.org_code = r.org_code and several.person_id = r.person_id
    ) as numbered
    where nth_in_org > 1

),

-- Deaths and moves out of the province registered in the population database, matched to roster
-- records on the 12-digit ID: evidence for every record of that person, since linking joins a
-- person's records across organisations (an ID typo in one roll is covered by another record).
registered as (

    select distinct r.person_id, c.change_kind as departure_kind, c.changed_on
    from {{ ref('stg_population_registry__changes') }} as c
    join records as r on r.id_number = c.citizen_id
    where c.citizen_id ~ '^\d{12}$' and c.change_kind in ('died', 'moved_away') and c.changed_on is not null

),

-- Deaths and moves away that one organisation recorded (evidence for the others' rolls), and those
-- the population database registered (evidence for every roll; reported_by is null).
departures as (

    select person_id, org_code as reported_by, ended_on, departure_kind, 'organisation' as departure_source
    from (
        select person_id, org_code, ended_on, {{ departure_kind('end_reason') }} as departure_kind
        from records where ended_on is not null
    ) as ended
    where departure_kind is not null

    union all
    select person_id, null, changed_on, departure_kind, 'population_registry'
    from registered

),

-- The first departure by the period's end, the population database's first on the same day, per
-- period, organisation and person: it depends on no more than those, so only the people with a
-- departure are matched to periods (hash joins on the person, then an equi-join on all three keys).
-- Two organisations ending a membership on the same day: a death before a move, then by organisation
-- code, so every build shows the same evidence.
departed as (

    select distinct on (p.period_key, k.org_code, k.person_id)
        p.period_key, k.org_code, k.person_id, d.departure_kind, d.departure_source, d.reported_by, d.ended_on
    from (select distinct org_code, person_id from records) as k
    join departures as d on d.person_id = k.person_id and d.reported_by is distinct from k.org_code
    join periods as p on d.ended_on <= p.last_day
    order by p.period_key, k.org_code, k.person_id, d.ended_on, d.departure_source desc, d.departure_kind, d.reported_by

),

at_end as (

    select p.period_key, p.last_day, extract(year from p.last_day)::int - r.birth_year as age_at_end, r.*
    from periods as p
    join record_facts as r on {{ on_roll_at_end }}

)

select
    r.period_key,
    r.last_day,
    r.org_code,
    r.source_record_key,
    r.member_code,
    r.person_id,
    r.full_name,
    r.birth_year,
    r.sex,
    r.id_number,
    r.unit_key,
    r.unit_name,
    r.commune_name,
    r.new_admin_unit_key,
    r.joined_on,
    s.first_roll_month,
    s.join_date_unknown,
    s.dues_checked_from,
    s.attendance_checked_from,
    s.last_dues_month,
    s.last_attended_month,
    r.name_key,
    r.birth_date,
    r.phone,
    r.hamlet_name,
    r.sends_dues,
    r.sends_activities,
    r.person_organisations,
    r.id_sex,
    r.id_birth_year,
    r.age_at_end,
    {{ years_outside_age('r.org_code', 'r.age_at_end') }}                                   as years_outside_age,
    r.has_person,
    r.has_name,
    r.has_unit,
    -- Dues and attendance are judged only where the organisation reports them (its config sends
    -- dues / activities): null is "not reported" (chưa báo cáo), not "not paid".
    case when r.sends_dues then not coalesce(s.no_dues, false) end                           as has_dues,
    case when r.sends_activities then not coalesce(s.no_attendance, false) end               as has_attendance,
    -- Evidence the ghost rules read (int_review__record_flags holds one boolean per rule).
    (dup.source_record_key is not null)                                                      as duplicate_in_org,
    dep.departure_kind,
    dep.departure_source,
    dep.reported_by                                                                          as departure_reported_by,
    dep.ended_on                                                                             as departed_on,
    not coalesce(s.eligible, true)                                                           as ineligible,
    r.breaks_sex_rule,
    r.sends_dues and coalesce(s.no_dues, false)                                              as dues_lapsed,
    r.sends_activities and coalesce(s.no_attendance, false)                                  as attendance_lapsed
from at_end as r
left join (select * from {{ ref('int_review__member_status') }}{{ review_periods_rebuilt() }}) as s using (period_key, org_code, person_id)
left join departed as dep using (period_key, org_code, person_id)
left join duplicates as dup using (period_key, source_record_key)
