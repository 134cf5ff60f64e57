-- Each organisational unit on a roll, latest name, kind and commune (the most common new commune of
-- its current members). Kind from the code or name: hamlet-level units are territorial; agencies,
-- schools and enterprises institutional.
with members as (

    select * from {{ ref('int_membership__records') }}

),

latest as (

    select distinct on (unit_key) unit_key, org_code, unit_code, unit_name
    from members order by unit_key, last_delivery_date desc, on_current_roll desc

),

commune as (

    select distinct on (unit_key) unit_key, new_admin_unit_key
    from members where new_admin_unit_key is not null
    group by unit_key, new_admin_unit_key
    order by unit_key, count(*) desc, new_admin_unit_key

)

select
    l.unit_key,
    l.org_code,
    l.unit_code,
    l.unit_name,
    case
        when l.unit_code ~* '-DN' or {{ vn_key('l.unit_name') }} ~ '(cong ty|doanh nghiep|nha may|xi nghiep)' then 'enterprise'
        when {{ vn_key('l.unit_name') }} ~ '(truong|dai hoc|cao dang)' then 'school'
        when l.unit_code ~* '-CQ' or {{ vn_key('l.unit_name') }} ~ '(^| )(so|ban|uy ban|co quan|phong|benh vien|cong an|quan su) ' then 'agency'
        when {{ vn_key('l.unit_name') }} ~ '(khu pho|ap|to dan pho|kp) ?[0-9a-z]' then 'hamlet'
        else 'commune'
    end as unit_kind,
    c.new_admin_unit_key
from latest as l
left join commune as c using (unit_key)
