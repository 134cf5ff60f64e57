{{ config(materialized='table') }}
-- How far the review was built: the batches its last complete build read (int_review__rebuilt_periods
-- reads this table's previous state to know which closed periods a late delivery reopened). Built after
-- every incremental review model, so a build in which one of them fails (or its tests) leaves the
-- previous watermark in place and the next night rebuilds those periods again.
-- depends_on: {{ ref('int_review__member_status') }} {{ ref('int_review__records') }} {{ ref('int_review__record_flags') }}
-- depends_on: {{ ref('rpt_member_flags') }} {{ ref('rpt_member_suspicion') }} {{ ref('rpt_correction_suggestions') }}
-- depends_on: {{ ref('rpt_five_haves') }} {{ ref('rpt_five_haves_by_unit') }} {{ ref('rpt_gathering_rate') }}
-- depends_on: {{ ref('rpt_organisation_overlap') }} {{ ref('rpt_people_by_organisation_count') }}
-- depends_on: {{ ref('rpt_changes_since_previous') }} {{ ref('int_review__unit_verified') }}
select max(through_batch_id)::bigint as built_through_batch_id from {{ ref('int_review__rebuilt_periods') }}
