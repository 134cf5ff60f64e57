-- The current roll of every organisation: one row per membership record on it, with its person key.
select * from {{ ref('int_membership__records') }} where on_current_roll
