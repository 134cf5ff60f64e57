{# union all of every configured organisation's staging view of the given entities (same shape);
   when no organisation sends them (rolls only), an empty relation of that shape. #}
{% macro union_staging(entities) -%}
    {%- set parts = [] -%}
    {%- for org, config in org_config().items() -%}
        {%- for kind in config['entities'] if kind in entities -%}
            {%- do parts.append('select * from ' ~ ref('stg_' ~ org ~ '__' ~ kind)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if parts -%}
    {{ parts | join('\nunion all\n') }}
    {%- else -%}
    {{ _empty_staging(entities[0]) }}
    {%- endif -%}
{%- endmacro %}

{# The columns of a staging shape nobody sends (the roster is always sent), with no rows. #}
{% macro _empty_staging(entity) -%}
    {%- set shapes = {
        'dues': ['record_key text', 'member_key text', 'period_raw text', 'period_start date', 'period_months int',
                 'amount_vnd numeric', 'paid_on date'],
        'activities': ['record_key text', 'member_key text', 'unit_code text', 'unit_name text', 'session_on date',
                       'session_title text'],
        'reported_totals': ['unit_code text', 'unit_name text', 'commune_name text', 'report_month date',
                            'reported_count int'],
        'verification_outcomes': ['flag_key text', 'period_key text', 'flag_kind text', 'source_record_key text',
                                  'outcome_code text', 'removes boolean', 'corrected_id_number text',
                                  'corrected_birth_date date', 'note text', 'verified_by text', 'verified_on date'],
    } -%}
    select null::text as org_code, null::bigint as batch_id, null::date as delivery_date,
           null::int as source_row_number
        {%- for column in shapes[entity] %}, null::{{ column.split(' ')[1] }} as {{ column.split(' ')[0] }}{% endfor %}
    where false
{%- endmacro %}

{# A commune or district as written -> the key of admin_unit_aliases: accents off, and the
   abbreviations rosters use (P., X., TT., H., TX., TP.) spelt out. #}
{% macro admin_name_key(expr) -%}
    nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        coalesce({{ vn_key(expr) }}, ''),
        '^p\.\s*', 'phuong '), '^x\.\s*', 'xa '), '^tt\.\s*', 'thi tran '),
        '^h\.\s*', 'huyen '), '^tx\.\s*', 'thi xa '), '^tp\.\s*', 'thanh pho '), '')
{%- endmacro %}

{# The provisional person key used until person linking has run: a valid 12-digit CCCD, else
   name key + birth year + commune as written. #}
{% macro provisional_person_id(id_number, name_key, birth_year, commune) -%}
    md5(
        case
            when {{ id_number }} ~ '^\d{12}$' then 'cccd:' || {{ id_number }}
            else 'name:' || coalesce({{ name_key }}, '') || '|' || coalesce({{ birth_year }}::text, '')
                 || '|' || coalesce({{ vn_key(commune) }}, '')
        end
    )
{%- endmacro %}

{# The linked person tables exist only once person linking has run: checked at compile time so a
   fresh warehouse still builds (on the provisional key). #}
{% macro identity_ready() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set rel = adapter.get_relation(database=target.database, schema='identity', identifier='record_person') -%}
    {{ return(rel is not none) }}
{%- endmacro %}

{# Latest person-linking run (0 before linking has run): incremental models re-key what it moved. #}
{% macro identity_watermark() -%}
    (select coalesce(max(run_id), 0) from {{ ref('stg_identity__runs') }})
{%- endmacro %}

{# Post-hook of the models incremental by batch (indexed on batch_id): delete the rows of batches no
   longer live (replaced by a rerun). Landing never deletes a batch's record, so these are the batches
   with another status: an index probe each, where `not in (live batches)` read the whole table. #}
{% macro delete_batches_not_live() -%}
    delete from {{ this }} where batch_id in (select batch_id from {{ ref('stg_landing__batches') }} where status <> 'loaded')
{%- endmacro %}

{# int_deliveries__member_rows, nightly, before the night's rows are added: keep member_on_a_roll
   (a record of the organisation's roll, now or before, has the row's member key) true to the records.
   A key once on a roll stays on one, unless a rerun replaced a roll (the replaced rows' records are
   gone): those organisations' rows are judged again (lost, every night until a dues or attendance
   batch newer than the rerun is read). The rows still on no roll are looked up again, as a later roll
   may list their member (found): an index read of the few, where rpt_unmatched_activity used to join
   every delivered row to every record each night. #}
{% macro member_rows_roll_lost() -%}
    {%- if is_incremental() -%}
    update {{ this }} as d set member_on_a_roll = false
    where d.member_on_a_roll
      and d.org_code in ({{ replaced_orgs('(select max(batch_id) from ' ~ this ~ ')', ['roster', 'roster_changes']) }})
      and not exists (select from {{ ref('int_membership__records') }} as r
                      where r.org_code = d.org_code and r.member_key = d.member_key)
    {%- endif -%}
{%- endmacro %}

{% macro member_rows_roll_found() -%}
    {%- if is_incremental() -%}
    update {{ this }} as d set member_on_a_roll = true
    from (select distinct org_code, member_key from {{ ref('int_membership__records') }}) as m
    where not d.member_on_a_roll and m.org_code = d.org_code and m.member_key = d.member_key
    {%- endif -%}
{%- endmacro %}

{# Highest live batch id: incremental models remember how far they have read. #}
{% macro live_batch_watermark() -%}
    (select coalesce(max(batch_id), 0) from {{ ref('stg_landing__batches') }} where status = 'loaded')
{%- endmacro %}

{# Eligible in a month by the organisation's age and sex rules (its config's eligibility); unknown
   birth year or sex counts as eligible: the review flags missing data separately. #}
{% macro member_eligible(org_code, birth_year, sex, month_start) -%}
    case {{ org_code }}
    {%- for org, config in org_config().items() %}{% set rule = config['eligibility'] %}
        when '{{ org }}' then true
            {%- if rule.min_age is not none %} and coalesce(extract(year from {{ month_start }})::int - {{ birth_year }} >= {{ rule.min_age }}, true){% endif %}
            {%- if rule.max_age is not none %} and coalesce(extract(year from {{ month_start }})::int - {{ birth_year }} <= {{ rule.max_age }}, true){% endif %}
            {%- if rule.sex is not none %} and coalesce({{ sex }} = '{{ rule.sex }}', true){% endif %}
    {%- endfor %}
        else true
    end
{%- endmacro %}

{# How many years an age lies outside the organisation's age rule (its config's eligibility); 0
   inside it or where the organisation has no age rule, null for an unknown age. #}
{% macro years_outside_age(org_code, age) -%}
    case {{ org_code }}
    {%- for org, config in org_config().items() %}{% set rule = config['eligibility'] %}
        when '{{ org }}' then greatest(0
            {%- if rule.min_age is not none %}, {{ rule.min_age }} - {{ age }}{% endif %}
            {%- if rule.max_age is not none %}, {{ age }} - {{ rule.max_age }}{% endif %}) + 0 * {{ age }}
    {%- endfor %}
        else 0 * {{ age }}
    end
{%- endmacro %}

{# Why a member left, from the organisations' own words (vn_key of the reason): a death or a move
   away is evidence for every other organisation that still counts the person. #}
{% macro departure_kind(reason) -%}
    case
        when {{ vn_key(reason) }} in ('tu tran', 'tu_tran', 'deceased', 'qua doi', 'da mat') then 'died'
        when {{ vn_key(reason) }} in ('chuyen di noi khac', 'chuyen_di', 'relocated', 'chuyen di') then 'moved_away'
    end
{%- endmacro %}

{# A unit's key: its own code where the organisation has unit codes, else its name within its
   (new-scheme) commune. Rosters and reported totals must key units the same way. #}
{% macro unit_key(org_code, unit_code, new_admin_unit_key, commune_name, unit_name) -%}
    {{ org_code }} || ':' || coalesce(upper(btrim({{ unit_code }})),
        md5(concat_ws('|', coalesce({{ new_admin_unit_key }}, {{ vn_key(commune_name) }}), {{ vn_key(unit_name) }})))
{%- endmacro %}


{# fct_member_month, nightly: keep only the people it touched (every month) and, when the window
   gained a month, every person's rows of the new months. #}
{% macro member_month_touched_only(person_column, month_column, window_gained) -%}
    {%- if is_incremental() %}where ({{ person_column }} in (select person_id from touched)
        {%- if window_gained %} or {{ month_column }} > (select built_through_month from built){% endif %}){% endif -%}
{%- endmacro %}


{# Whether tonight's member-month window gained a month since fct_member_month was built (every
   person gets that month): true on a first or full build (no built month). #}
{% macro member_month_window_gained() -%}
    coalesce((select max(month_start) from {{ ref('int_member_month__window') }})
             > (select built_through_month from {{ ref('int_member_month__built') }}), true)
{%- endmacro %}


{# int_bi__member_months, nightly: whether it rebuilds every row rather than the people
   fct_member_month rebuilt tonight (int_member_month__touched). Every row on a first build, when the
   window gained or lost a month (a new month changes every person's last month: on the roll after
   it), when a rerun replaced an organisation's batch (a person named only by the replaced rows leaves
   that organisation without being touched), and when it is behind fct_member_month (a night that built
   fct_member_month and then failed before this model: its touched people are not tonight's). #}
{% macro bi_member_months_rebuild_all() -%}
    {%- if not execute or not is_incremental() -%}{{ return(true) }}{%- endif -%}
    {%- set query -%}
        select {{ member_month_window_gained() }}
            or exists ({{ member_month_replaced_orgs() }})
            or mine.first_month is distinct from (select min(month_start) from {{ ref('int_member_month__window') }})
            or mine.batch_id is distinct from built.built_through_batch_id
            or mine.identity_run is distinct from built.built_through_identity_run
        from (select min(month_start) as first_month, max(built_through_batch_id) as batch_id,
                     max(built_through_identity_run) as identity_run from {{ this }}) as mine,
             {{ ref('int_member_month__built') }} as built
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}


{# fct_member_month, nightly: the organisations a rerun replaced a live batch of since it was built
   (the replaced rows are deleted upstream, so a person named only by them is in no record any more). #}
{% macro member_month_replaced_orgs() -%}
    {{ replaced_orgs("(select built_through_batch_id from " ~ ref('int_member_month__built') ~ ")") }}
{%- endmacro %}


{# The organisations a rerun replaced a live batch of (of `entities`, else any) by a batch above
   `after` (SQL for a batch id; null: none). #}
{% macro replaced_orgs(after, entities=none) -%}
    select distinct old.org_code
    from {{ ref('stg_landing__batches') }} as old
    join {{ ref('stg_landing__batches') }} as new
      on new.org_code = old.org_code and new.entity = old.entity and new.delivery_date = old.delivery_date
    where old.status = 'replaced' and new.status = 'loaded' and new.batch_id > {{ after }}
    {%- if entities %} and old.entity in ({% for e in entities %}'{{ e }}'{{ ', ' if not loop.last }}{% endfor %}){% endif %}
{%- endmacro %}


{# A count for the aggregates every analyst reads: null when it is small enough to single people out. #}
{% macro suppress_small(count) -%}
    case when {{ count }} between 1 and {{ var('bi_min_cell_count') }} - 1 then null else {{ count }} end
{%- endmacro %}


{# True when any of the counts is suppressed by suppress_small(). #}
{% macro any_suppressed(counts) -%}
    ({% for count in counts %}{{ count }} between 1 and {{ var('bi_min_cell_count') }} - 1{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}


{# int_membership__records, nightly: delete the records that differ from their state (a record the
   states dropped, or whose last event, start, roll status, end or commune moved: what a rebuilt state
   changes; a commune resolves otherwise after a seed's correction or a roll's province set)
   and those whose person linking has moved, linked or unlinked since they were built. Hash joins of
   the records with the states and linking's output: read-only, where rebuilding every record writes
   them all; and a night that failed after the states were built is caught up by the next. #}
{% macro delete_records_to_rebuild() -%}
    delete from {{ this }} as r
    using (
        select b.source_record_key
        from {{ this }} as b
        left join {{ ref('int_membership__states') }} as s on s.source_record_key = b.source_record_key
        left join {{ ref('stg_identity__record_person') }} as rp
          on rp.org_code = b.org_code and rp.source_record_key = b.source_record_key
        where s.source_record_key is null
           or (b.last_batch_id, b.started_on, b.on_current_roll, b.ended_on, b.new_admin_unit_key, b.commune_resolution)
              is distinct from (s.last_batch_id, s.started_on, s.on_current_roll, s.ended_on, s.new_admin_unit_key,
                                s.commune_resolution)
           or b.person_is_linked is distinct from (rp.person_id is not null) or b.person_id <> rp.person_id
    ) as rebuilt
    where r.source_record_key = rebuilt.source_record_key
{%- endmacro %}

{# Statistics for a table as soon as dbt builds it (every model's post-hook, dbt_project.yml): the next
   model is planned from them, not from PostgreSQL's guess for a table autovacuum has not reached yet
   (a handful of rows, and nested loops over hundreds of thousands: docs/review.md), and a BI tool's
   first query after the build too. Views and ephemeral models have none to gather. #}
{% macro analyze_if_table() -%}
    {%- if config.get('materialized') == 'incremental' and config.get('unique_key') == 'period_key' -%}
    {{ analyze_review_periods() }}
    {%- elif config.get('materialized') in ('table', 'incremental') -%} analyze {{ this }} {%- else -%} select 1 {%- endif -%}
{%- endmacro %}

{# The review's models incremental by period: a night that rebuilt only some periods (the open ones)
   analyses period_key alone, whose values a night changes (a new month's periods, which the planner
   would otherwise take for empty); the other columns' statistics, gathered when every period was
   built, describe rows a night replaced with rows like them. A build of every period (first, full
   refresh, a late delivery dated in the window's first month) analyses every column. Decided in SQL:
   whether `this` existed before the build is not known reliably once dbt has created it. #}
{% macro analyze_review_periods() -%}
    do $$ begin
        if exists (select 1 from {{ ref('rpt_review_periods') }}
                   where period_key not in (select period_key from {{ ref('int_review__rebuilt_periods') }})) then
            analyze {{ this }} (period_key);
        else
            analyze {{ this }};
        end if;
    end $$
{%- endmacro %}
