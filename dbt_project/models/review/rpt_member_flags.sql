{{ config(indexes=[{'columns': ['period_key', 'org_code', 'flag_kind']}]) }}
-- Ghost-member flags ("hội viên ảo"): one row per record and rule that fired at the end of a review
-- period, with the rule, the evidence and since when. Restricted: names the member for follow-up.
{% set sex_rules = {} %}
{% for org, config in org_config().items() %}{% if config['eligibility'].sex %}{% do sex_rules.update({org: config['eligibility'].sex}) %}{% endif %}{% endfor %}
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

flags as (

    select *, 'no_identity' as flag_kind, 'Không có số định danh' as flag_label,
           'Không có số CCCD (12 số) hoặc CMND (9 số) hợp lệ' as rule,
           coalesce('Số ghi trên danh sách: ' || id_number, 'Để trống số CCCD/CMND') as evidence,
           joined_on as since
    from records where no_identity

    union all
    select *, 'implausible', 'Dữ liệu bất thường',
           'Giới tính, năm sinh không khớp số CCCD, hoặc tuổi không hợp lý',
           concat_ws('; ',
               'năm sinh ' || birth_year, 'năm sinh theo CCCD ' || id_birth_year,
               'tuổi ' || age_at_end, 'giới tính ' || sex),
           joined_on
    from records where implausible

    union all
    select records.*, 'duplicate', 'Trùng trong cùng tổ chức',
           'Cùng một người có từ hai hồ sơ trở lên trên danh sách của tổ chức',
           'Các hồ sơ của cùng người: ' || same.record_keys,
           joined_on
    from records
    join same_person_records as same using (period_key, org_code, person_id)
    where duplicate_in_org

    union all
    select *, 'deceased_or_moved', 'Đã mất hoặc chuyển đi',
           'Tổ chức khác hoặc cơ sở dữ liệu dân cư đã ghi nhận người này từ trần hoặc chuyển đi nơi khác',
           (case departure_kind when 'died' then 'Từ trần' else 'Chuyển đi nơi khác' end)
               || case when departure_source = 'population_registry' then ' theo dữ liệu dân cư'
                       else ' theo danh sách ' || departure_reported_by end
               || ' ngày ' || to_char(departed_on, 'DD/MM/YYYY'),
           departed_on
    from records where departure_kind is not null

    union all
    select *,
           case {% for org, sex in sex_rules.items() %}when org_code = '{{ org }}' and sex is not null and sex <> '{{ sex }}' then 'ineligible_sex' {% endfor %}else 'ineligible_age' end,
           case {% for org, sex in sex_rules.items() %}when org_code = '{{ org }}' and sex is not null and sex <> '{{ sex }}' then 'Không đúng giới tính' {% endfor %}else 'Không đúng độ tuổi' end,
           'Không thuộc đối tượng theo điều lệ (tuổi, giới tính)',
           concat_ws('; ', 'tuổi ' || age_at_end, 'giới tính ' || sex),
           null::date
    from records where ineligible

    union all
    select *, 'no_dues', 'Không đóng hội phí, đoàn phí',
           'Không đóng phí {{ var("review")["no_dues_months"] }} tháng liền',
           coalesce('Lần đóng gần nhất: tháng ' || to_char(last_dues_month, 'MM/YYYY'), 'Chưa thấy lần đóng nào'),
           coalesce((last_dues_month + interval '1 month')::date, first_roll_month)
    from records where no_dues

    union all
    select *, 'no_attendance', 'Không sinh hoạt',
           'Không tham gia sinh hoạt {{ var("review")["no_attendance_months"] }} tháng liền',
           coalesce('Lần sinh hoạt gần nhất: tháng ' || to_char(last_attended_month, 'MM/YYYY'), 'Chưa thấy lần sinh hoạt nào'),
           coalesce((last_attended_month + interval '1 month')::date, first_roll_month)
    from records where no_attendance

)

select
    period_key,
    org_code,
    unit_key,
    unit_name,
    commune_name,
    new_admin_unit_key,
    source_record_key,
    member_code,
    person_id,
    full_name,
    flag_kind,
    flag_label,
    rule,
    evidence,
    since
from flags
