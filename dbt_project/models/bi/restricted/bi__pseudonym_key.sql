-- The secret behind every person_key. Created once, at random, inside the warehouse (gen_random_uuid
-- draws on the server's strong random source), so the key never appears in compiled SQL, logs or
-- the docs site; `lienthong access sync` replaces it with LIENTHONG_PSEUDONYM_KEY when that is set.
-- Never fully refreshed: a new key would re-key every person and break saved BI questions.
{{ config(schema='access', alias='pseudonym_key', materialized='incremental', full_refresh=false) }}

select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') as pseudonym_key
{% if is_incremental() %}
where not exists (select 1 from {{ this }})
{% endif %}
