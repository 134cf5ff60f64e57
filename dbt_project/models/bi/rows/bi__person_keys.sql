-- person_id -> person_key, the keyed hash BI sees instead of any identifier. sha256(key || id) with a
-- secret key of 64 hex characters: without the key a dictionary of ID numbers or person_ids cannot
-- be hashed to match. (HMAC needs pgcrypto, absent from the embedded server; length extension does
-- not help anyone reverse a pseudonym.) The scalar subquery fails loudly if the key table holds
-- more than one row.
{{ config(materialized='ephemeral') }}

select
    person_id,
    encode(
        sha256(convert_to((select pseudonym_key from {{ ref('bi__pseudonym_key') }}) || ':' || person_id, 'UTF8')),
        'hex'
    ) as person_key
from {{ ref('dim_person') }}
