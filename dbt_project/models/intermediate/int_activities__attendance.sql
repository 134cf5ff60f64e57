-- Every live attendance row of every organisation, one shape.
{{ union_staging(['activities']) }}
