{{ config(materialized='table', indexes=[{'columns': ['period_key', 'org_code']}]) }}
-- One row per review record (int_review__records) and one boolean per ghost-flag rule
-- (var('review_flags')): <kind> fires the rule, <kind>_evidence says what in the data fired it
-- (Vietnamese, for the reviewer), <kind>_since the date the evidence starts when known; both null
-- when the rule did not fire. A new rule is its declaration in dbt_project.yml and, in `rules`
-- below, its boolean (<kind>), evidence text (<kind>_text) and start date (<kind>_from).
{% set rules = review_flag_rules() %}
with records as (

    select * from {{ ref('int_review__records') }}

),

same_person_records as (

    select period_key, org_code, person_id,
           string_agg(source_record_key, ', ' order by source_record_key) as record_keys
    from records
    group by period_key, org_code, person_id
    having count(*) > 1

),

evidence as (

    select
        r.*,
        same.record_keys as same_person_record_keys
    from records as r
    left join same_person_records as same using (period_key, org_code, person_id)

),

rules as (

    select
        *,

        (id_number is null or id_number !~ '^(\d{12}|\d{9})$')                         as no_identity,
        coalesce('Số ghi trên danh sách: ' || id_number, 'Để trống số CCCD/CMND')      as no_identity_text,
        joined_on                                                                      as no_identity_from,

        (   (id_sex is not null and sex is not null and id_sex <> sex)
         or (id_birth_year is not null and birth_year is not null and id_birth_year <> birth_year)
         or age_at_end > {{ var('review')['max_plausible_age'] }}
         or age_at_end < {{ var('review')['min_plausible_age'] }}
         or (joined_on is not null and birth_year is not null
             and extract(year from joined_on)::int - birth_year < {{ var('review')['min_plausible_age'] }}))
                                                                                       as implausible,
        concat_ws('; ', 'năm sinh ' || birth_year, 'năm sinh theo CCCD ' || id_birth_year,
                  'tuổi ' || age_at_end, 'giới tính ' || sex)                          as implausible_text,
        joined_on                                                                      as implausible_from,

        (duplicate_in_org and same_person_record_keys is not null)                     as duplicate,
        'Các hồ sơ của cùng người: ' || same_person_record_keys                        as duplicate_text,
        joined_on                                                                      as duplicate_from,

        (departure_kind is not null)                                                   as deceased_or_moved,
        (case departure_kind when 'died' then 'Từ trần' else 'Chuyển đi nơi khác' end)
            || case when departure_source = 'population_registry' then ' theo dữ liệu dân cư'
                    else ' theo danh sách ' || departure_reported_by end
            || ' ngày ' || to_char(departed_on, 'DD/MM/YYYY')                          as deceased_or_moved_text,
        departed_on                                                                    as deceased_or_moved_from,

        (ineligible and not breaks_sex_rule)                                           as ineligible_age,
        concat_ws('; ', 'tuổi ' || age_at_end, 'giới tính ' || sex)                    as ineligible_age_text,
        null::date                                                                     as ineligible_age_from,

        (ineligible and breaks_sex_rule)                                               as ineligible_sex,
        concat_ws('; ', 'tuổi ' || age_at_end, 'giới tính ' || sex)                    as ineligible_sex_text,
        null::date                                                                     as ineligible_sex_from,

        dues_lapsed                                                                    as no_dues,
        coalesce('Lần đóng gần nhất: tháng ' || to_char(last_dues_month, 'MM/YYYY'), 'Chưa thấy lần đóng nào')
                                                                                       as no_dues_text,
        coalesce((last_dues_month + interval '1 month')::date, first_roll_month)       as no_dues_from,

        attendance_lapsed                                                              as no_attendance,
        coalesce('Lần sinh hoạt gần nhất: tháng ' || to_char(last_attended_month, 'MM/YYYY'),
                 'Chưa thấy lần sinh hoạt nào')                                        as no_attendance_text,
        coalesce((last_attended_month + interval '1 month')::date, first_roll_month)   as no_attendance_from
    from evidence

)

select
    period_key, period_kind, last_day, org_code, source_record_key, member_code, person_id, full_name,
    birth_year, sex, id_number, unit_key, unit_name, commune_name, new_admin_unit_key, joined_on,
    has_person, has_name, has_unit, has_dues, has_attendance
    {%- for rule in rules %},
    {{ rule.kind }},
    case when {{ rule.kind }} then {{ rule.kind }}_text end                            as {{ rule.kind }}_evidence,
    case when {{ rule.kind }} then {{ rule.kind }}_from end                            as {{ rule.kind }}_since
    {%- endfor %}
from rules
