-- Privileges by role, applied after every role's privileges on the managed schemas were revoked,
-- so this file is the whole truth (roles.py fills the identifiers; see docs/bi.md for the matrix).
-- {admin} is the account running the sync (the warehouse owner); tables it creates in the BI
-- schemas stay readable between a dbt rebuild and the next sync.

-- Only the project's roles connect; nobody creates objects in public.
revoke connect, temporary on database {database} from public;
grant connect on database {database} to {loader}, {transformer}, {linker}, {history}, {bi}, {reviewer}, {analyst};
revoke create on schema public from public;

-- Transformer: dbt's sources are the raw rows and the linked persons.
grant usage on schema raw, identity to {transformer};
grant select on all tables in schema raw, identity to {transformer};
alter default privileges for role {loader}, {admin} in schema raw grant select on tables to {transformer};
alter default privileges for role {linker}, {admin} in schema identity grant select on tables to {transformer};
-- dbt's seeds, recreated by `dbt seed` as the admin: still readable by the transformer's views before the next sync.
alter default privileges for role {admin} in schema reference grant select on tables to {transformer};

-- Validation history (dq, owned by {history}, which runs nothing): the roles that validate (batches at
-- landing, marts after the build) append and read; nobody but its owner updates, deletes or truncates.
grant usage on schema dq to {loader}, {transformer};
grant select, insert on all tables in schema dq to {loader}, {transformer};
alter default privileges for role {history}, {admin} in schema dq grant select, insert on tables to {loader}, {transformer};

-- Linker: reads the cleaned roster records dbt prepares.
grant usage on schema staging, intermediate to {linker};
grant select on all tables in schema staging, intermediate to {linker};
alter default privileges for role {transformer}, {admin} in schema staging, intermediate
    grant select on tables to {linker};

-- BI service: the pseudonymised schema, nothing else.
grant usage on schema bi to {bi};
grant select on all tables in schema bi to {bi};
alter default privileges for role {transformer}, {admin} in schema bi grant select on tables to {bi};

-- Reviewer: the named marts, the review models and flags, the BI schema; identity tables by name (roles.py).
grant usage on schema marts, review, bi, identity to {reviewer};
grant select on all tables in schema marts, review, bi to {reviewer};
alter default privileges for role {transformer}, {admin} in schema marts, review, bi
    grant select on tables to {reviewer};

-- Analysts: the BI schema; which tables (aggregates, their own organisation's rows) is decided per table.
grant usage on schema bi to {analyst};
