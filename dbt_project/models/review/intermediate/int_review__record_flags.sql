-- An index on the period alone, as int_review__records has: a night's readers take one month by it.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', indexes=[{'columns': ['period_key']}],
          pre_hook=["set local enable_nestloop = off", "set local enable_mergejoin = off", "set local work_mem = '256MB'",
                    "{{ delete_review_periods_rebuilt() }}"]) }}
{{ review_periods_depends_on() }}
-- No nested loops (for this model's transaction only): the copies below join `records` to itself on
-- three correlated columns, which the planner, once the table has statistics, estimates at one row
-- and answers with a nested loop rescanning the whole CTE per row: on the tiny sample over 10 minutes
-- against 3 s hashed, and which plan won depended on whether autovacuum had analysed the table yet.
-- No merge joins either: for name_copies the planner sorted all 464,000 records (demo) by unit and
-- name to merge them with the 32,000 without an ID; hashing those instead takes 0.6 s, not 2.4 s.
-- work_mem 256MB (this transaction): `evidence` hashes a table per hamlet, unit, name and copy beside
-- the wide review row; one past work_mem makes its join write every review row to disk. At the
-- province those tables outgrew the default 64 MB and the spill passed temp_file_limit (docs/warehouse.md,
-- "int_review__record_flags at the province's sizes").
-- One row per review record (int_review__records) and one boolean per ghost-flag rule
-- (var('review_flags')): <kind> fires the rule, <kind>_evidence says what in the data fired it
-- (Vietnamese, for the reviewer), <kind>_since the date the evidence starts when known; both null
-- when the rule did not fire. A new rule is its declaration in dbt_project.yml, its boolean (<kind>)
-- in `fired` and its evidence text (<kind>_text) and start date (<kind>_from) in `rules` below.
{% set rules = review_flag_rules() %}
{#- The review rows of the periods this build recomputes (all on a first or full build): inlined at
    each read, not a CTE, which PostgreSQL would materialise whole (the wide review row). #}
{%- set review_records %}(select * from {{ ref('int_review__records') }}{{ review_periods_rebuilt() }}){% endset %}
-- A hamlet's key, once per distinct name rather than for each record in each of 12 months.
with hamlet_keys as (

    select hamlet_name,
           nullif(regexp_replace(regexp_replace({{ vn_key('hamlet_name') }},
               '^(khu pho|kp|ap|thon|xom|khom|to dan pho|to|ban|buon|lang)\.?\s*', ''), '\s', '', 'g'), '') as hamlet_key
    from (select distinct hamlet_name from {{ review_records }} where hamlet_name is not null) as h

),

-- The phones no one has (one digit repeated, a run of the keypad, or not 10 digits), checked once per
-- distinct number. Only these few are joined to the review rows below, not a table of every number:
-- one table less hashed beside the wide review row (work_mem above says why that matters).
placeholder_phones as (

    select phone
    -- offset 0: the test below would otherwise be pushed under the distinct, to every review row.
    from (select distinct phone from {{ review_records }} where phone is not null offset 0) as p
    where {{ vn_placeholder_phone('phone') }} or phone !~ '^0\d{9}$'

),

-- Only the columns the evidence below groups and matches on: the whole review row (50 columns), held
-- for the dozen reads of this CTE, spilled to disk and was read back at each (150 MB, 2 GB read at
-- demo). The whole row is read once, in `evidence`, from int_review__records itself.
records as (

    select
        r.period_key, r.source_record_key, r.org_code, r.person_id, r.unit_key, r.name_key,
        r.new_admin_unit_key, r.phone, r.birth_year, r.joined_on, r.duplicate_in_org,
        r.id_number is not null                                   as gives_id,
        -- Read by the unit shares and the copies: matched once per row, not at each.
        coalesce(r.id_number ~ '^(\d{12}|\d{9})$', false)         as has_valid_id,
        hk.hamlet_key
    from {{ review_records }} as r
    left join hamlet_keys as hk on hk.hamlet_name = r.hamlet_name

),

-- The people with several records in one organisation, listed for the duplicate rule: only where
-- a record is a duplicate (or may be: duplicate_in_org not false), as the rule reads no other.
-- Their records taken by the person alone, then grouped: a join of the records to those people's
-- three keys (columns of a CTE, no statistics) was estimated at one row, and the planner merged the
-- month's records with it on the period alone, comparing every pair (a province night's select ran
-- for over 12 minutes). Filtered on one key, the estimate is of the right size (12k groups for 19k).
same_person_records as (

    select period_key, org_code, person_id,
           string_agg(source_record_key, ', ' order by source_record_key) as record_keys
    from records
    where person_id in (select person_id from records where duplicate_in_org is not false)
    group by period_key, org_code, person_id
    having count(*) > 1 and bool_or(duplicate_in_org is not false)

),

-- Share of a unit's records with a valid ID (of those giving a number): a record without one stands
-- out where nearly all have one.
unit_ids as (

    select period_key, unit_key, count(*) as unit_records,
           avg(has_valid_id::int) filter (where gives_id) as unit_id_share
    from records
    group by period_key, unit_key

),

-- How many people (all organisations) the rolls place in a hamlet of a commune: a hamlet only one
-- person is placed in is one the commune may not have. Keyed without "ấp", "khu phố", "KP", spaces.
-- Distinct people hashed, then counted (as name_people); each count then given to every hamlet name
-- of that key, so the review row matches its own hamlet name without keying it again.
hamlets as (

    select h.period_key, h.new_admin_unit_key, hk.hamlet_name, h.hamlet_people
    from (select period_key, new_admin_unit_key, hamlet_key, count(person_id) as hamlet_people
          from (select distinct period_key, new_admin_unit_key, hamlet_key, person_id from records
                where hamlet_key is not null and new_admin_unit_key is not null) as d
          group by 1, 2, 3) as h
    join hamlet_keys as hk using (hamlet_key)

),

-- A phone number given for different people of different families in several hamlets. A
-- household shares one phone (a husband, his wife, their children: two family names, one hamlet),
-- so only three family names or more in two hamlets or more count. The distinct counts (a sort) are
-- taken only for the numbers given on three records or more of a period, the least three people need,
-- and only the numbers that pass are joined to the review rows (placeholder_phones says why).
shared_phones as (

    select period_key, phone, count(distinct person_id) as phone_people,
           count(distinct split_part(name_key, ' ', 1)) as phone_families,
           count(distinct (new_admin_unit_key, hamlet_key)) as phone_hamlets
    from records
    join (select period_key, phone from records where phone is not null
          group by period_key, phone having count(*) >= 3) as several using (period_key, phone)
    group by period_key, phone
    having count(distinct person_id) >= 3 and count(distinct split_part(name_key, ' ', 1)) >= 3
       and count(distinct (new_admin_unit_key, hamlet_key)) >= 2

),

-- Another record of the same unit with the same name and another birth year (a typo in a date
-- rarely changes the year; linking may have taken the copy for the same person, so any record),
-- that joined no later than this one: a copy is put on the roll after the member it copies, so the
-- member (without an ID too) is not the one flagged. Only a record without a valid ID can be a
-- copy (name_copy reads no other), so only those are matched: a fifteenth of the join.
name_copies as (

    select r.period_key, r.source_record_key,
           string_agg(distinct o.source_record_key, ', ') as copied_record_keys
    from records as r
    join records as o
      on o.period_key = r.period_key and o.unit_key = r.unit_key and o.name_key = r.name_key
     and o.source_record_key <> r.source_record_key and o.birth_year <> r.birth_year
     and not coalesce(o.joined_on > r.joined_on, false)
    where r.name_key is not null and not r.has_valid_id
    group by 1, 2

),

-- How many people (all organisations) carry a name in the period, and how many people there are:
-- the number of real namesakes a unit of n records should hold is about n * (carriers - 1) / people.
-- Only the rare-copy rules read it, beside a copy, which only a record without a valid ID is: counted
-- for those records' names only. The distinct people are hashed, then counted: count(distinct) would
-- sort. The period's people ride on the name's row (only read beside it), one join less.
period_people as (

    select period_key, count(person_id) as period_people
    from (select distinct period_key, person_id from records) as d
    group by 1

),

name_people as (

    select d.period_key, d.name_key, count(d.person_id) as name_people, max(pp.period_people) as period_people
    from (select distinct r.period_key, r.name_key, r.person_id
          from records as r
          join (select distinct period_key, name_key from records
                where name_key is not null and not has_valid_id) as without_id using (period_key, name_key)) as d
    join period_people as pp using (period_key)
    group by 1, 2

),

-- How many birth years carry a name in a commune: a name carried by one or two is rare there.
-- Read only for the names of records without a valid ID (commune_copies), so counted for those only.
-- The distinct years are hashed, then counted (count ignores a null year, as count(distinct) did):
-- count(distinct) would sort every record.
commune_names as (

    select period_key, new_admin_unit_key, name_key, count(birth_year) as name_birth_years
    from (select distinct r.period_key, r.new_admin_unit_key, r.name_key, r.birth_year
          from records as r
          join (select distinct period_key, new_admin_unit_key, name_key from records
                where name_key is not null and new_admin_unit_key is not null and not has_valid_id) as without_id
            using (period_key, new_admin_unit_key, name_key)) as d
    group by 1, 2, 3

),

-- A record without a valid ID that carries the name of someone on another unit's (or another
-- organisation's) roll in the same commune whose record has a valid ID and a birth year the copy
-- lacks or contradicts: a real member's name copied onto a roll. commune_copied_record_keys where the
-- name is rare in the commune (ghost copies across organisations); hamlet_copied_record_keys where
-- both are in the same hamlet (a member copied onto another roll where they live; whether the name is
-- rare for the hamlet's size is read in `fired`). One join for both: the hamlet's pairs are among the
-- commune's.
commune_copies as (

    select r.period_key, r.source_record_key,
           string_agg(distinct o.source_record_key, ', ') filter (where n.name_birth_years <= 2)
               as commune_copied_record_keys,
           string_agg(distinct o.source_record_key, ', ') filter (where o.hamlet_key = r.hamlet_key)
               as hamlet_copied_record_keys
    from records as r
    join commune_names as n using (period_key, new_admin_unit_key, name_key)
    join records as o
      on o.period_key = r.period_key and o.new_admin_unit_key = r.new_admin_unit_key and o.name_key = r.name_key
     and o.unit_key is distinct from r.unit_key and o.person_id is distinct from r.person_id and o.has_valid_id
     and o.birth_year is not null and o.birth_year is distinct from r.birth_year
    where not r.has_valid_id
    group by 1, 2

),

-- The age (years) above which only (1 - late_join_quantile) of an organisation's records joined:
-- members join soon after they may (a woman at 18-30, a veteran after the service); a name padded
-- onto the roll is given any adult age, with a recent joining date.
join_ages as (

    select period_key, org_code,
           percentile_disc({{ var('review')['late_join_quantile'] }})
               within group (order by extract(year from joined_on)::int - birth_year) as late_join_age
    from records
    where joined_on is not null and birth_year is not null
    group by 1, 2

),

-- The review row with its evidence. `offset 0` keeps it a subquery whose values are computed once a
-- row: inlined, each column computed here (the ID match above all) was computed again in every rule
-- reading it.
evidence as (

    select
        r.*,
        coalesce(r.id_number ~ '^(\d{12}|\d{9})$', false) as has_valid_id,
        substr(r.id_number, 1, 3) in ({% for code in var('cccd_province_codes') %}{{ sql_text(code) }}{{ ', ' if not loop.last }}{% endfor %})
                                                           as id_has_province_code,
        case when r.phone is not null then pp.phone is not null end as phone_is_placeholder,
        same.record_keys as same_person_record_keys,
        u.unit_records,
        u.unit_id_share,
        h.hamlet_people,
        p.phone_people,
        p.phone_families,
        p.phone_hamlets,
        c.copied_record_keys,
        cc.commune_copied_record_keys,
        cc.hamlet_copied_record_keys,
        np.name_people,
        np.period_people,
        ja.late_join_age,
        (joined_on > (last_day - interval '{{ var('review')['recent_join_years'] }} years')::date) as joined_recently,
        (joined_on > (last_day - interval '{{ var('review')['recent_join_years'] }} years')::date
         and extract(year from joined_on)::int - birth_year > ja.late_join_age)                  as joined_late
    from {{ review_records }} as r
    left join same_person_records as same using (period_key, org_code, person_id)
    left join unit_ids as u using (period_key, unit_key)
    left join hamlets as h using (period_key, new_admin_unit_key, hamlet_name)
    left join placeholder_phones as pp using (phone)
    left join shared_phones as p using (period_key, phone)
    left join name_copies as c using (period_key, source_record_key)
    left join commune_copies as cc using (period_key, source_record_key)
    left join name_people as np using (period_key, name_key)
    left join join_ages as ja using (period_key, org_code)
    offset 0

),

-- Each rule's boolean, computed once a row (`offset 0`, as `evidence`): the evidence text and start
-- date below, and the output's case on the boolean, read it as a column.
fired as (

    select
        *,

        not has_valid_id                                                               as no_identity,

        (   (id_sex is not null and sex is not null and id_sex <> sex)
         or (id_birth_year is not null and birth_year is not null and id_birth_year <> birth_year)
         or age_at_end > {{ var('review')['max_plausible_age'] }}
         or age_at_end < {{ var('review')['min_plausible_age'] }}
         or (joined_on is not null and birth_year is not null
             and extract(year from joined_on)::int - birth_year < {{ var('review')['min_plausible_age'] }}))
                                                                                       as implausible,

        (duplicate_in_org and same_person_record_keys is not null)                     as duplicate,

        (departure_kind is not null)                                                   as deceased_or_moved,

        (ineligible and not breaks_sex_rule)                                           as ineligible_age,

        (ineligible and breaks_sex_rule)                                               as ineligible_sex,

        dues_lapsed                                                                    as no_dues,

        attendance_lapsed                                                              as no_attendance,

        phone_is_placeholder                                                           as placeholder_phone,

        -- shared_phones holds only the numbers that fire it.
        case when phone is not null then phone_people is not null end
                                                                                       as shared_phone,

        (hamlet_people = 1)                                                            as unknown_hamlet,

        (age_at_end > {{ var('review')['max_plausible_age'] }} or age_at_end < {{ var('review')['min_plausible_age'] }})
                                                                                       as impossible_age,

        -- Far outside the organisation's own age rule: a member who aged out lingers a few years; a
        -- Youth Union member twenty years past its age limit never was one.
        (years_outside_age >= {{ var('review')['far_outside_years'] }})                as far_outside_age,

        -- Older than old_age but not impossible, beside a missing ID: few real members, many invented
        -- ages (a real member that old with an ID is not flagged).
        (not has_valid_id
         and age_at_end > {{ var('review')['old_age'] }} and age_at_end <= {{ var('review')['max_plausible_age'] }})
                                                                                       as very_old,

        -- A CCCD no living member can hold: its first three digits are no province's code (only
        -- where the record gives a birth year to check the year digits against: a real ID mistyped
        -- in its province code keeps them), or its century and year digits (4-6) give a birth year
        -- after the period or an age over max_plausible_age (an invented number), unless those
        -- digits are one typo (a digit, two adjacent digits swapped) away from the ones the
        -- record's birth year gives: a real ID mistyped.
        (id_number ~ '^\d{12}$'
         and ((not id_has_province_code and birth_year is not null)
              or id_birth_year > extract(year from last_day)::int
              or extract(year from last_day)::int - id_birth_year > {{ var('review')['max_plausible_age'] }})
         and not coalesce((
             select bool_or((substr(id_number, 4, 1) = e1)::int + (substr(id_number, 5, 1) = e2)::int
                            + (substr(id_number, 6, 1) = e3)::int >= 2
                         or (substr(id_number, 4, 1) = e2 and substr(id_number, 5, 1) = e1 and substr(id_number, 6, 1) = e3)
                         or (substr(id_number, 4, 1) = e1 and substr(id_number, 5, 1) = e3 and substr(id_number, 6, 1) = e2))
             from (select ((birth_year / 100 - 19) * 2 + v.female)::text as e1,
                          substr(lpad((birth_year % 100)::text, 2, '0'), 1, 1) as e2,
                          substr(lpad((birth_year % 100)::text, 2, '0'), 2, 1) as e3
                   from (values (0), (1)) as v(female)) as expected), false))
                                                                                       as impossible_id,

        (copied_record_keys is not null and not has_valid_id)
                                                                                       as name_copy,

        -- The copy of a name so rare that a real namesake in the unit is unlikely: the unit's records
        -- times the share of people carrying the name (other than this record's) stays below
        -- rare_name_expected. A common name ("Nguyễn Thị Mai") has real namesakes in many units.
        (copied_record_keys is not null and not has_valid_id
         and unit_records * (name_people - 1)::numeric / period_people
             < {{ var('review')['rare_name_expected'] }})                               as name_copy_rare,

        (commune_copied_record_keys is not null)                                       as name_copy_commune,

        -- As name_copy_rare, for a copy on another unit's roll in the same hamlet: the hamlet's people
        -- times the share of people carrying the name stays below rare_name_expected.
        (hamlet_copied_record_keys is not null
         and hamlet_people * (name_people - 1)::numeric / period_people < {{ var('review')['rare_name_expected'] }})
                                                                                       as name_copy_hamlet,

        (not has_valid_id
         and unit_records >= {{ var('review')['id_unit_min_records'] }}
         and unit_id_share >= {{ var('review')['id_unit_share'] }})                    as no_id_in_id_unit,

        -- Joined recently at an age few of the organisation's members joined at.
        coalesce(joined_late, false)                                                   as late_join,

        -- Three weak tells, read only beside a missing ID (records that already carry no_identity):
        -- no way to reach the person, a birth day no one knows, on no other organisation's roll.
        (not has_valid_id and phone is null)   as unreachable,

        (not has_valid_id
         and (birth_date is null or to_char(birth_date, 'MM-DD') = '01-01'))           as vague_birth,

        -- Neither an ID nor a year of birth: no one can tell who this is (a graded vague_birth).
        (not has_valid_id and birth_year is null) as no_birth_year,

        (not has_valid_id and person_organisations = 1)
                                                                                       as only_roll,

        -- Weak beside a missing ID: a name padded onto a roll carries a recent joining date. Not
        -- where late_join fired (it says more), so the score does not count one date twice.
        (not has_valid_id and joined_recently
         and not coalesce(joined_late, false))                                        as recent_join,

        -- On the roll long enough to have missed every activity (attendance lapsed) and never seen at
        -- one: real members who stopped coming once came; a name that is only on paper never did.
        (attendance_lapsed and last_attended_month is null)                            as never_attended,

        (person_organisations = 1 and (sends_dues or sends_activities)
         and (not sends_dues or last_dues_month is null)
         and (not sends_activities or last_attended_month is null))                    as seen_nowhere_else
    from evidence
    offset 0

),

-- Each rule's evidence text and start date, computed only where the rule fired (the output's case).
rules as (

    select
        *,

        coalesce('Số ghi trên danh sách: ' || id_number, 'Để trống số CCCD/CMND')      as no_identity_text,
        joined_on                                                                      as no_identity_from,

        concat_ws('; ', 'năm sinh ' || birth_year, 'năm sinh theo CCCD ' || id_birth_year,
                  'tuổi ' || age_at_end, 'giới tính ' || sex)                          as implausible_text,
        joined_on                                                                      as implausible_from,

        'Các hồ sơ của cùng người: ' || same_person_record_keys                        as duplicate_text,
        joined_on                                                                      as duplicate_from,

        (case departure_kind when 'died' then 'Từ trần' else 'Chuyển đi nơi khác' end)
            || case when departure_source = 'population_registry' then ' theo dữ liệu dân cư'
                    else ' theo danh sách ' || departure_reported_by end
            || ' ngày ' || to_char(departed_on, 'DD/MM/YYYY')                          as deceased_or_moved_text,
        departed_on                                                                    as deceased_or_moved_from,

        concat_ws('; ', 'tuổi ' || age_at_end, 'giới tính ' || sex)                    as ineligible_age_text,
        null::date                                                                     as ineligible_age_from,

        concat_ws('; ', 'tuổi ' || age_at_end, 'giới tính ' || sex)                    as ineligible_sex_text,
        null::date                                                                     as ineligible_sex_from,

        -- A member whose join date is unknown is judged on the months the organisation's delivered
        -- history covers (int_review__member_status): the text says so and names those months.
        concat(case when join_date_unknown and dues_checked_from < first_roll_month
                    then 'Không rõ ngày kết nạp, đã xem số liệu đóng phí các tháng '
                         || to_char(dues_checked_from, 'MM/YYYY') || '–' || to_char(last_day, 'MM/YYYY') || '. ' end,
               coalesce('Lần đóng gần nhất: tháng ' || to_char(last_dues_month, 'MM/YYYY'), 'Chưa thấy lần đóng nào'))
                                                                                       as no_dues_text,
        coalesce((last_dues_month + interval '1 month')::date, dues_checked_from)      as no_dues_from,

        concat(case when join_date_unknown and attendance_checked_from < first_roll_month
                    then 'Không rõ ngày kết nạp, đã xem số liệu sinh hoạt các tháng '
                         || to_char(attendance_checked_from, 'MM/YYYY') || '–' || to_char(last_day, 'MM/YYYY') || '. ' end,
               coalesce('Lần sinh hoạt gần nhất: tháng ' || to_char(last_attended_month, 'MM/YYYY'),
                        'Chưa thấy lần sinh hoạt nào'))                                as no_attendance_text,
        coalesce((last_attended_month + interval '1 month')::date, attendance_checked_from)
                                                                                       as no_attendance_from,

        'Số điện thoại: ' || phone                                                     as placeholder_phone_text,
        joined_on                                                                      as placeholder_phone_from,

        'Số điện thoại ' || phone || ' ghi cho ' || phone_people || ' người thuộc '
            || phone_families || ' họ khác nhau ở ' || phone_hamlets || ' ấp/khu phố'  as shared_phone_text,
        joined_on                                                                      as shared_phone_from,

        'Ấp/khu phố “' || hamlet_name || '” không có hồ sơ nào khác ở ' || commune_name as unknown_hamlet_text,
        joined_on                                                                      as unknown_hamlet_from,

        'tuổi ' || age_at_end                                                          as impossible_age_text,
        joined_on                                                                      as impossible_age_from,

        'tuổi ' || age_at_end || ', ngoài độ tuổi của tổ chức ' || years_outside_age || ' năm'
                                                                                       as far_outside_age_text,
        joined_on                                                                      as far_outside_age_from,

        'tuổi ' || age_at_end || ', không có CCCD/CMND'                                as very_old_text,
        joined_on                                                                      as very_old_from,

        'Số CCCD ' || id_number || case when id_has_province_code
                                        then ' mang năm sinh ' || id_birth_year
                                        else ' có mã tỉnh ' || substr(id_number, 1, 3) || ' không tồn tại' end
                                                                                       as impossible_id_text,
        joined_on                                                                      as impossible_id_from,

        'Trùng họ tên với ' || copied_record_keys || ' cùng đơn vị, khác ngày sinh, không có CCCD'
                                                                                       as name_copy_text,
        joined_on                                                                      as name_copy_from,

        'Trùng họ tên với ' || copied_record_keys || ' cùng đơn vị, không có CCCD; họ tên này chỉ '
            || name_people || ' người mang trên mọi danh sách'                           as name_copy_rare_text,
        joined_on                                                                      as name_copy_rare_from,

        'Trùng họ tên (hiếm trong xã/phường) với ' || commune_copied_record_keys
            || ' ở đơn vị khác, có CCCD, khác năm sinh; hồ sơ này không có CCCD'      as name_copy_commune_text,
        joined_on                                                                      as name_copy_commune_from,

        'Trùng họ tên với ' || hamlet_copied_record_keys || ' ở đơn vị khác cùng ấp/khu phố, có CCCD, khác năm sinh;'
            || ' hồ sơ này không có CCCD; họ tên này chỉ ' || name_people || ' người mang trên mọi danh sách'
                                                                                       as name_copy_hamlet_text,
        joined_on                                                                      as name_copy_hamlet_from,

        'Đơn vị có ' || round(100 * unit_id_share) || '% hồ sơ có CCCD/CMND'           as no_id_in_id_unit_text,
        joined_on                                                                      as no_id_in_id_unit_from,

        'Kết nạp ngày ' || to_char(joined_on, 'DD/MM/YYYY') || ' lúc '
            || (extract(year from joined_on)::int - birth_year) || ' tuổi; '
            || round(100 * {{ var('review')['late_join_quantile'] }}) || '% hồ sơ của tổ chức kết nạp từ '
            || late_join_age || ' tuổi trở xuống'                                       as late_join_text,
        joined_on                                                                      as late_join_from,

        'Không có CCCD/CMND, không có số điện thoại'                                   as unreachable_text,
        joined_on                                                                      as unreachable_from,

        coalesce('Ngày sinh ghi ' || to_char(birth_date, 'DD/MM/YYYY'), 'Không có ngày, tháng sinh')
            || ', không có CCCD/CMND'                                                  as vague_birth_text,
        joined_on                                                                      as vague_birth_from,

        'Không có CCCD/CMND, không có năm sinh'                                        as no_birth_year_text,
        joined_on                                                                      as no_birth_year_from,

        'Không có CCCD/CMND, không có trên danh sách của tổ chức nào khác'             as only_roll_text,
        joined_on                                                                      as only_roll_from,

        'Không có CCCD/CMND, kết nạp ngày ' || to_char(joined_on, 'DD/MM/YYYY')        as recent_join_text,
        joined_on                                                                      as recent_join_from,

        'Chưa từng tham gia sinh hoạt lần nào'                                         as never_attended_text,
        attendance_checked_from                                                        as never_attended_from,

        'Không có ở tổ chức nào khác, chưa từng đóng phí hay sinh hoạt'                as seen_nowhere_else_text,
        joined_on                                                                      as seen_nowhere_else_from
    from fired

)

select
    period_key, last_day, org_code, source_record_key, member_code, person_id, full_name,
    birth_year, sex, id_number, unit_key, unit_name, commune_name, new_admin_unit_key, joined_on,
    has_person, has_name, has_unit, has_dues, has_attendance
    {%- for rule in rules %},
    {{ rule.kind }},
    case when {{ rule.kind }} then {{ rule.kind }}_text end                            as {{ rule.kind }}_evidence,
    case when {{ rule.kind }} then {{ rule.kind }}_from end                            as {{ rule.kind }}_since
    {%- endfor %}
from rules
