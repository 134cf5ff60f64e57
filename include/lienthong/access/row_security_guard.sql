-- Row-level security in schema bi is the sync's, not the table owner's: the transformer owns the
-- tables dbt rebuilds, and an owner may disable RLS or rewrite policies, which would show every
-- organisation's members to every analyst. This event trigger refuses, for anyone but a superuser
-- (the sync), disabling or un-forcing RLS on a bi table that carries policies, and creating,
-- altering or dropping a policy on a bi table. dbt's rebuild (create, rename, drop) passes: a fresh
-- table carries no policies and stays closed to analysts until the next sync.
-- {function}, {on_ddl} and {on_drop} are filled by roles.py; installing needs a superuser.
create or replace function {function}() returns event_trigger language plpgsql as $$
declare
    offending text;
begin
    if (select rolsuper from pg_roles where rolname = current_user) then
        return;
    end if;
    if tg_event = 'sql_drop' then
        select d.object_identity into offending
        from pg_event_trigger_dropped_objects() as d
        where d.original and d.object_type = 'policy' and d.object_identity like '% on bi.%'
        limit 1;
    else
        select format('%I.%I', n.nspname, c.relname) into offending
        from pg_event_trigger_ddl_commands() as d
        left join pg_policy as p on d.classid = 'pg_policy'::regclass and p.oid = d.objid
        join pg_class as c
          on c.oid = case when d.classid = 'pg_policy'::regclass then p.polrelid
                          when d.classid = 'pg_class'::regclass then d.objid end
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'bi'
          and (d.classid = 'pg_policy'::regclass
               or (exists (select 1 from pg_policy as q where q.polrelid = c.oid)
                   and not (c.relrowsecurity and c.relforcerowsecurity)))
        limit 1;
    end if;
    if offending is not null then
        raise exception using errcode = 'insufficient_privilege',
            message = format('%s: row-level security in schema bi is set by `lienthong access sync`; '
                             'role %s may not disable it or change its policies', offending, current_user),
            hint = 'Run `lienthong access sync` as the warehouse owner to change who sees which rows.';
    end if;
end
$$;
drop event trigger if exists {on_ddl};
create event trigger {on_ddl} on ddl_command_end
    when tag in ('ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY') execute function {function}();
drop event trigger if exists {on_drop};
create event trigger {on_drop} on sql_drop
    when tag in ('DROP POLICY') execute function {function}();
