-- Per month of the snapshot window, organisation and new (2025) commune: members on the roll,
-- active members, people in several organisations, who joined and left, sessions held and
-- attendances, and the gathering rate. Margins are rows too: org_code '*' is every organisation,
-- commune_key '*' the whole province ('?' people whose commune is not resolved). The public
-- information pages (lienthong.site) are built from this table, so it is what the public may see:
-- small cells suppressed, then complementary suppression so no hidden cell follows from a margin.
{{ config(alias='agg_activity_by_commune') }}
-- Additive over communes and over organisations (the '*' rows are sums of the cells).
{% set additive = ['members', 'active_members', 'joined', 'left_roll', 'sessions_held', 'attendances'] %}
-- Distinct people: additive over communes only (one commune per person).
{% set distinct_people = ['people', 'people_in_several_organisations'] %}
{% set measures = additive + distinct_people %}
{% set keys = ['month_start', 'org_code', 'commune_key'] %}

with months as (

    select month_start from {{ ref('int_member_month__window') }}

),

person_commune as (

    select person_id, coalesce(new_admin_unit_key, '?') as commune_key from {{ ref('dim_person') }}

),

-- Each organisation's month of a person, with how many organisations have the person on the roll
-- that month and whether this is the first of them (by code): the row that counts the person once
-- where organisations are summed over; and whether the person was on that organisation's roll the
-- month before and the month after (the changes below). Computed per person in
-- int_bi__member_months, incremental as fct_member_month: windows over every member-month here
-- sorted all of them each night (400k sample: 9 s of this model's 14; docs/warehouse.md).
person_month as (

    select org_code, person_id, month_start, on_roll, active, sessions_attended, on_roll_before, on_roll_after,
           organisations_on_roll as organisation_count, first_organisation
    from {{ ref('int_bi__member_months') }}

),

-- On the roll this month and not the month before (joined), or the reverse (left); the window's
-- first month has no month before it and counts neither.
changes as (

    select org_code, person_id, month_start, 1 as joined, 0 as left_roll
    from person_month
    where on_roll and not on_roll_before and month_start > (select min(month_start) from months)
    union all
    select org_code, person_id, (month_start + interval '1 month')::date, 0, 1
    from person_month
    where on_roll and not on_roll_after and month_start < (select max(month_start) from months)

),

-- Counted rows, not distinct values (a distinct count sorts each grouping set): the member-months
-- have one row per organisation, person and month, and a person one commune, so a person is one row
-- of an organisation's month, and across organisations the row of their first organisation. Each
-- cell's counts are taken first, the months and the changes apart (so the planner sees
-- the member-months' few months and organisations, and hashes a few thousand cells instead of
-- sorting every row), and the margins summed from them.
cells as (

    select
        pm.month_start,
        pm.org_code,
        pc.commune_key,
        count(*) filter (where pm.on_roll)                                                    as members,
        count(*) filter (where pm.active)                                                     as active_members,
        0                                                                                     as joined,
        0                                                                                     as left_roll,
        sum(pm.sessions_attended)                                                             as attendances,
        count(*) filter (where pm.on_roll and pm.organisation_count > 1)                      as in_several,
        count(*) filter (where pm.first_organisation)                                         as first_of_person,
        count(*) filter (where pm.first_organisation and pm.organisation_count > 1)           as first_of_several
    from person_month as pm
    join person_commune as pc using (person_id)
    group by 1, 2, 3
    union all
    select c.month_start, c.org_code, pc.commune_key, 0, 0, sum(c.joined), sum(c.left_roll), 0, 0, 0, 0
    from changes as c
    join person_commune as pc using (person_id)
    group by 1, 2, 3

),

monthly_people as (

    select
        month_start,
        coalesce(org_code, '*')                                                               as org_code,
        coalesce(commune_key, '*')                                                            as commune_key,
        sum(members)                                                                          as members,
        sum(active_members)                                                                   as active_members,
        sum(joined)                                                                           as joined,
        sum(left_roll)                                                                        as left_roll,
        sum(attendances)                                                                      as attendances,
        case when grouping(org_code) = 0 then sum(members) else sum(first_of_person) end      as people,
        case when grouping(org_code) = 0 then sum(in_several) else sum(first_of_several) end  as people_in_several_organisations
    from cells
    group by month_start, grouping sets ((org_code, commune_key), (org_code), (commune_key), ())

),

-- A session is one unit's meeting on one day; it belongs to the commune of (the first of) its attendees.
-- Joined to the records themselves, not to their distinct members: a member on two records adds a
-- row to a session grouped once, and the planner, which took the join to distinct members for a
-- few rows (897 for 144,147 at demo) and sorted every attendance, hashes.
sessions as (

    select a.org_code, a.session_month as month_start,
           a.org_code || '|' || coalesce(a.unit_code, a.unit_name, '') || '|' || a.session_on || '|'
               || coalesce(a.session_title, '') as session_id,
           min(pc.commune_key) as commune_key
    from {{ ref('fct_activity_attendance') }} as a
    join {{ ref('int_membership__records') }} as mr using (org_code, member_key)
    join person_commune as pc using (person_id)
    group by 1, 2, 3

),

-- Counted, not distinct: a session is one row of its organisation's month (its key starts with
-- the organisation), and a null key (no session day) is not counted either way.
monthly_sessions as (

    select month_start, coalesce(org_code, '*') as org_code, coalesce(commune_key, '*') as commune_key,
           count(session_id) as sessions_held
    from sessions
    group by month_start, grouping sets ((org_code, commune_key), (org_code), (commune_key), ())

),

-- Every cell in every month (zeros included), so each month's margins are sums of the same cells.
grid as (

    select m.month_start, c.org_code, c.commune_key
    from months as m
    cross join (select distinct org_code, commune_key from monthly_people
                union select distinct org_code, commune_key from monthly_sessions) as c

),

counted as (

    select
        g.month_start, g.org_code, g.commune_key,
        {%- for m in measures if m != 'sessions_held' %}
        coalesce(p.{{ m }}, 0)::bigint as {{ m }},
        {%- endfor %}
        coalesce(s.sessions_held, 0)::bigint as sessions_held
    from grid as g
    left join monthly_people as p using (month_start, org_code, commune_key)
    left join monthly_sessions as s using (month_start, org_code, commune_key)

),

primary_hidden as (

    select
        {{ keys | join(', ') }},
        {%- for m in measures %}
        {{ m }},
        {%- if m in ('joined', 'left_roll') %}
        -- Joined and left hide together: with the roll of both months shown, one gives the other.
        ({{ is_small('joined') }} or {{ is_small('left_roll') }}) as {{ m }}_hidden{{ ',' if not loop.last }}
        {%- else %}
        {{ is_small(m) }} as {{ m }}_hidden{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from counted

),

{% set ns = namespace(previous='primary_hidden') %}
{% for round in range(3) %}
over_communes_{{ round }} as (
    {{ complementary_pass(ns.previous, keys, measures, ['month_start', 'org_code'], 'commune_key') }}
),
over_organisations_{{ round }} as (
    {{ complementary_pass('over_communes_' ~ round, keys, additive, ['month_start', 'commune_key'], 'org_code',
                          carry=distinct_people) }}
),
{% set ns.previous = 'over_organisations_' ~ round %}
{% endfor %}

eligible as (

    -- Population statistics, not people on a roll: the denominator of the gathering rate.
    select coalesce(org_code, '*') as org_code, coalesce(new_admin_unit_key, '*') as commune_key,
           sum(eligible_population)::bigint as eligible_population
    from (select distinct org_code, new_admin_unit_key, eligible_population from {{ ref('rpt_gathering_rate') }}) as e
    group by grouping sets ((org_code, new_admin_unit_key), (org_code), (new_admin_unit_key), ())

),

communes as (

    select commune_key, commune_name from {{ ref('bi_agg_communes') }}

)

select
    f.month_start,
    to_char(f.month_start, 'YYYY-MM')                                      as period_key,
    f.org_code,
    f.commune_key,
    case f.commune_key when '*' then 'Toàn tỉnh' when '?' then '(chưa xác định xã, phường)'
                       else coalesce(c.commune_name, f.commune_key) end    as commune_name,
    {%- for m in measures %}
    {%- if m == 'people' %}
    -- One organisation's people are its members: the same figure, hidden the same way.
    case when f.org_code <> '*' then (case when f.members_hidden then null else f.members end)
         when f.people_hidden then null else f.people end                  as people,
    {%- else %}
    case when f.{{ m }}_hidden then null else f.{{ m }} end                as {{ m }},
    {%- endif %}
    {%- endfor %}
    e.eligible_population,
    case when not f.members_hidden
         then round(f.members::numeric / nullif(e.eligible_population, 0), 4) end as gathering_rate,
    ({% for m in measures %}f.{{ m }}_hidden{{ ' or ' if not loop.last }}{% endfor %}
     or (f.org_code <> '*' and f.members_hidden))                        as suppressed
from {{ ns.previous }} as f
left join communes as c using (commune_key)
left join eligible as e using (org_code, commune_key)
