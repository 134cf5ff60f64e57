-- The organisations, from their configs (seed rendered by lienthong.pipeline.dbt_generated).
select org_code, org_name, short_name, member_word, has_member_code
from {{ ref('organisations') }}
