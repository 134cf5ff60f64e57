{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', indexes=[{'columns': ['period_key', 'org_code', 'unit_key']}],
          pre_hook=["set local enable_mergejoin = off", "{{ delete_review_periods_rebuilt() }}"]) }}
{{ review_periods_depends_on() }}
-- No merge joins (for this model's transaction only): the planner answers the join of the month
-- records to themselves per period and person (same_person) by sorting both sides, about 290,000
-- rows each; hashed, the model's query takes half the time (demo: 2.5 s -> 1.4 s).
-- Corrections the warehouse can suggest to each organisation from the others' rolls (liên thông), per
-- monthly period and unit, with where the evidence comes from: an ID number for a member with none,
-- when the linked person has exactly one on other rolls; a birth date that disagrees with every
-- other roll of the same person (when those agree); a death or move recorded by the population
-- database or another organisation. Names members: reviewer role only.
-- Only the columns the comparison reads: the month records (about 290,000 at demo) are joined to
-- themselves per period and person, and carrying every column of the record through that join (and a
-- hash of all of them for the final select) was most of the model's time. The record's details are
-- read once at the end for the suggestions only.
with records as (

    select r.period_key, r.org_code, r.source_record_key, r.person_id, r.id_number, f.no_identity, r.birth_date
    from (select * from {{ ref('int_review__records') }}{{ review_periods_rebuilt() }}) as r
    join (select * from {{ ref('int_review__record_flags') }}{{ review_periods_rebuilt() }}) as f using (period_key, source_record_key)

),

same_person as (

    select a.period_key, a.source_record_key, a.id_number as own_id, a.no_identity, a.birth_date as own_birth,
           b.org_code as other_org, b.id_number as other_id, b.birth_date as other_birth
    from records as a
    join records as b on b.period_key = a.period_key and b.person_id = a.person_id and b.org_code <> a.org_code

),

suggested as (

    select period_key, source_record_key, 'id_from_other_roll' as suggestion_kind,
           'Bổ sung số CCCD theo danh sách tổ chức khác' as suggestion_label,
           min(own_id) as current_value, min(other_id) as suggested_value,
           array_agg(distinct other_org order by other_org) as source_orgs
    from same_person
    where no_identity and other_id ~ '^\d{12}$'
    group by period_key, source_record_key
    having count(distinct other_id) = 1

    union all
    select period_key, source_record_key, 'birth_date_disagrees',
           'Ngày sinh khác với mọi danh sách khác của cùng người',
           to_char(min(own_birth), 'DD/MM/YYYY'), to_char(min(other_birth), 'DD/MM/YYYY'),
           array_agg(distinct other_org order by other_org)
    from same_person
    where own_birth is not null and other_birth is not null
    group by period_key, source_record_key
    having bool_and(other_birth <> own_birth) and count(distinct other_birth) = 1

),

named as (

    select s.period_key, s.source_record_key, s.suggestion_kind, s.suggestion_label, s.current_value,
           s.suggested_value, string_agg(o.short_name, ', ' order by o.short_name) as evidence_source
    from suggested as s
    cross join unnest(s.source_orgs) as src(org_code)
    join {{ ref('organisations') }} as o using (org_code)
    group by 1, 2, 3, 4, 5, 6

),

-- The review records carry the departure (int_review__records); int_review__record_flags has one row
-- per review record, so they need no join here.
departed as (

    select r.period_key, r.source_record_key,
           'recorded_' || r.departure_kind as suggestion_kind,
           case r.departure_kind when 'died' then 'Đã từ trần theo nguồn khác'
                                 else 'Đã chuyển đi nơi khác theo nguồn khác' end as suggestion_label,
           null::text as current_value,
           to_char(r.departed_on, 'DD/MM/YYYY') as suggested_value,
           case when r.departure_source = 'population_registry' then 'Cơ sở dữ liệu dân cư' else o.short_name end
               as evidence_source
    from (select * from {{ ref('int_review__records') }}{{ review_periods_rebuilt() }}) as r
    left join {{ ref('organisations') }} as o on o.org_code = r.departure_reported_by
    where r.departure_kind is not null

),

all_suggestions as (

    select * from named
    union all
    select * from departed

)

select r.period_key, r.org_code, r.unit_key, r.unit_name, r.commune_name, r.source_record_key, r.member_code,
       r.full_name, s.suggestion_kind, s.suggestion_label, s.current_value, s.suggested_value, s.evidence_source
from all_suggestions as s
join (select * from {{ ref('int_review__records') }}{{ review_periods_rebuilt() }}) as r using (period_key, source_record_key)
