{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- Gathering rate ("tỉ lệ tập hợp") per new-scheme commune and organisation: members on the roll at
-- the period's end over the eligible population (statistics by commune, sex and 5-year age band;
-- a band half inside the organisation's age limits counts in proportion).
{% set rules = {} %}
{% for org, config in org_config().items() %}{% do rules.update({org: config['eligibility']}) %}{% endfor %}
with population as (

    select
        'new:' || commune_code                                       as new_admin_unit_key,
        commune_name,
        case when upper(sex) in ('F', 'NU', 'NỮ') then 'F' else 'M' end as sex,
        split_part(replace(age_band, '+', '-'), '-', 1)::int         as age_from,
        coalesce(nullif(split_part(replace(age_band, '+', '-'), '-', 2), '')::int,
                 split_part(replace(age_band, '+', '-'), '-', 1)::int + 19) as age_to,
        people
    from {{ ref('stg_statistics__population') }}

),

eligible as (

    {% for org, rule in rules.items() %}
    select
        '{{ org }}'::text as org_code,
        new_admin_unit_key,
        min(commune_name) as commune_name,
        sum(people * greatest(0, least(age_to, {{ rule.max_age if rule.max_age is not none else 200 }})
                                - greatest(age_from, {{ rule.min_age if rule.min_age is not none else 0 }}) + 1)::numeric
                   / (age_to - age_from + 1)) as eligible_population
    from population
    {% if rule.sex %}where sex = '{{ rule.sex }}'{% endif %}
    group by new_admin_unit_key
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- The distinct people are hashed, then counted (count skips a null person, as count(distinct) did):
-- count(distinct) sorted every record of every period (demo query 2.8-3.3 s against 1.1-1.2 s).
-- Per review month: a period's members are those of the month that ends it.
members as (

    select period_key, org_code, new_admin_unit_key, count(person_id) as members
    from (select distinct period_key, org_code, new_admin_unit_key, person_id
          from {{ ref('int_review__records') }}{{ review_periods_rebuilt() }}) as people
    group by 1, 2, 3

)

select
    p.period_key,
    e.org_code,
    e.new_admin_unit_key,
    e.commune_name,
    coalesce(m.members, 0)                                            as members,
    round(e.eligible_population)::int                                 as eligible_population,
    round(coalesce(m.members, 0) / nullif(e.eligible_population, 0), 4) as gathering_rate
from eligible as e
cross join {{ review_period_months() }} as p
left join members as m on m.period_key = p.month_key and m.org_code = e.org_code
                      and m.new_admin_unit_key = e.new_admin_unit_key
