{# The key held by PostgreSQL: the table has a valid unique index on exactly these columns, in this
   order, with nulls not distinct (macros/indexes.sql), so no build can have written a duplicate (the
   insert fails the model). A catalog read in place of unique_combination's `group by`, which sorted
   or hashed every row of the review's record × period tables (province: about 120 s and 3.5 GB of
   temporary files each; docs/warehouse.md, "Mid-size, 2026-12-06 (rev20)"). One row, and the test
   fails, when no such index exists (dropped, not unique, other columns, partial). #}
{% test unique_key_index(model, columns) %}
select {{ sql_text(columns | join(', ')) }} as key_without_unique_index
where not exists (
    select 1
    from pg_index as i
    where i.indrelid = {{ sql_text(model) }}::regclass
      and i.indisunique and i.indisvalid and i.indnullsnotdistinct
      and i.indpred is null and i.indexprs is null
      and (select array_agg(a.attname::text order by k.n)
           from unnest(i.indkey::int2[]) with ordinality as k(attnum, n)
           join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum)
          = array[{% for c in columns %}{{ sql_text(c) }}{{ ', ' if not loop.last }}{% endfor %}]::text[]
)
{% endtest %}
