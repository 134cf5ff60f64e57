-- Every live reported-total row of every organisation, one shape.
{{ union_staging(['reported_totals']) }}
