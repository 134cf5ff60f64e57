-- The verification list of each monthly period: the flags a unit is asked to check (rpt_flag_lifecycle
-- listed: open, overdue or promised but not done; verified-kept flags stay off the list unless the
-- evidence changed), with the record's details and the key its answer must carry. Names members:
-- reviewer role only (lienthong.review.verification writes one file per unit from it).
select
    l.period_key,
    l.org_code,
    l.unit_key,
    l.unit_name,
    l.commune_name,
    l.source_record_key,
    l.flag_kind,
    {{ dbt.concat(["l.period_key", "'|'", "l.flag_kind", "'|'", "l.source_record_key"]) }} as flag_key,
    r.member_code,
    r.full_name,
    r.birth_year,
    r.id_number,
    l.flag_label,
    coalesce('Căn cứ mới (đã xác minh trước đây): ' || l.new_evidence, l.evidence) as evidence,
    f.since,
    f.flag_order,
    f.suspicion_score,
    l.status,
    l.listed_before
from {{ ref('rpt_flag_lifecycle') }} as l
join {{ ref('int_review__records') }} as r using (period_key, source_record_key)
join {{ ref('rpt_member_flags') }} as f using (period_key, source_record_key, flag_kind)
where l.listed
