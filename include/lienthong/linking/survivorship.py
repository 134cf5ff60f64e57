"""The person dimension's surviving attributes, rebuilt in SQL from the linked records.

Rules (per person, over all its records; ties to the smallest value so reruns agree):

- name: written with diacritics rather than without (a plain-ASCII name lost information), then
  the most frequent display form; family / middle / given names split from it;
- birth date: the most frequent full date, records whose id agrees with it first; the year from
  that date, else the most frequent year (year-only records);
- sex: the most frequent;
- id: a CCCD whose digits 4–6 agree with the record's sex and year, then any CCCD, then a CMND;
  the most frequent within each (a typo'd id is usually the odd one out);
- phone, commune: the most frequent (unresolved split communes do not vote);
- organisations and record count: all records.

``created_at`` of a person survives reruns; persons no longer holding any record are deleted
(their merge is in ``identity.person_events``).
"""
from __future__ import annotations

_PICK = """
pick_{name} as (
    select distinct on (person_id) person_id, {value} as {name}
    from linked where {value} is not null
    group by person_id, {value}
    order by person_id, {order}count(*) desc, {value}
)"""


def _pick(name: str, value: str, order: str = "") -> str:
    return _PICK.format(name=name, value=value, order=order)


def refresh_sql(person_filter: str = "true") -> str:
    """SQL that upserts ``identity.person`` for persons matching ``person_filter`` (on ``rp``)."""
    picks = ",".join([
        _pick("name", "name", order="bool_or(lower(name) <> name_key) desc, "),
        _pick("birth_date", "birth_date", order="bool_or(id_consistent) desc nulls last, "),
        _pick("birth_year", "birth_year"),
        _pick("sex", "sex"),
        _pick("id", "id_kind || ':' || id_number",
              order="min(case when id_kind = 'cccd' and id_consistent then 0 when id_kind = 'cccd' then 1 "
                    "else 2 end), "),
        _pick("phone", "phone"),
        _pick("commune", "commune_code"),
    ])
    return f"""
with linked as (
    select rp.person_id, r.*
    from identity.record_person rp join identity.records r using (record_uid)
    where {person_filter}
),
persons as (
    select person_id, count(*) as n_records, array_agg(distinct org_code order by org_code) as organisations
    from linked group by person_id
),
{picks}
insert into identity.person as p (person_id, full_name, family_name, middle_name, given_name, birth_date,
    birth_year, sex, id_number, id_kind, phone, commune_code, n_records, organisations)
select persons.person_id, pick_name.name,
       split_part(pick_name.name, ' ', 1),
       nullif(array_to_string((string_to_array(pick_name.name, ' '))[2:cardinality(string_to_array(pick_name.name, ' ')) - 1], ' '), ''),
       (string_to_array(pick_name.name, ' '))[cardinality(string_to_array(pick_name.name, ' '))],
       pick_birth_date.birth_date::date,
       coalesce(extract(year from pick_birth_date.birth_date::date)::int, pick_birth_year.birth_year),
       pick_sex.sex, split_part(pick_id.id, ':', 2), split_part(pick_id.id, ':', 1),
       pick_phone.phone, pick_commune.commune, persons.n_records, persons.organisations
from persons
left join pick_name using (person_id) left join pick_birth_date using (person_id)
left join pick_birth_year using (person_id) left join pick_sex using (person_id)
left join pick_id using (person_id) left join pick_phone using (person_id)
left join pick_commune using (person_id)
on conflict (person_id) do update set
    full_name = excluded.full_name, family_name = excluded.family_name, middle_name = excluded.middle_name,
    given_name = excluded.given_name, birth_date = excluded.birth_date, birth_year = excluded.birth_year,
    sex = excluded.sex, id_number = excluded.id_number, id_kind = excluded.id_kind, phone = excluded.phone,
    commune_code = excluded.commune_code, n_records = excluded.n_records,
    organisations = excluded.organisations, updated_at = now()
"""


DELETE_ORPHANS = """
delete from identity.person p
where not exists (select 1 from identity.record_person rp where rp.person_id = p.person_id)
"""
