{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}",
          indexes=[{'columns': ['period_key', 'org_code', 'unit_key']}]) }}
{{ review_periods_depends_on() }}
-- Hồ sơ nghi "ảo": one row per flagged record and period with its suspicion score, the weights that
-- make it up (each rule's Vietnamese label and weight, largest first; then the weight of having paid
-- or attended where dues or activities are delivered), whether it reaches the
-- threshold (var('review').suspicion_threshold) and its rank in its unit, for the verification lists.
-- Computed over the review months' flags (a quarter's or a year's are its last month's: rpt_member_flags
-- gives them the same rows), then given to every period that month ends.
with months as (

    select
        period_key                                                                         as month_key,
        org_code,
        unit_key,
        min(unit_name)                                                                     as unit_name,
        min(commune_name)                                                                  as commune_name,
        source_record_key,
        min(member_code)                                                                   as member_code,
        min(person_id)                                                                     as person_id,
        min(full_name)                                                                     as full_name,
        min(suspicion_score)                                                               as suspicion_score,
        min(suspicion_score) >= {{ var('review')['suspicion_threshold'] }}                 as suspected,
        string_agg(flag_label || ' ' || to_char(weight, 'SG0.0'), '; ' order by weight desc, flag_order)
            || case when min(delivery_weight) <> 0
                    then '; Có đóng phí hoặc sinh hoạt ' || to_char(min(delivery_weight), 'SG0.0') else '' end
                                                                                           as score_weights,
        count(*)                                                                           as flags,
        rank() over (partition by period_key, unit_key order by min(suspicion_score) desc) as rank_in_unit
    from {{ ref('rpt_member_flags') }}
    where period_key in (select period_key from {{ review_months_rebuilt() }} as m)
    group by period_key, org_code, unit_key, source_record_key

)

select pm.period_key, m.org_code, m.unit_key, m.unit_name, m.commune_name, m.source_record_key, m.member_code,
       m.person_id, m.full_name, m.suspicion_score, m.suspected, m.score_weights, m.flags, m.rank_in_unit
from months as m
join {{ review_period_months() }} as pm using (month_key)
