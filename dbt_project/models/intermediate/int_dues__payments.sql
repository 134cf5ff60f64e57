-- Every live dues row of every organisation, one shape.
{{ union_staging(['dues']) }}
