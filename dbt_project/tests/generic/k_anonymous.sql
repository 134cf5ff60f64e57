{# Every combination of the quasi-identifiers is shared by at least k rows within each partition of
   at least k rows (a smaller one cannot be hidden; docs/bi.md). Fails with the small classes. #}
{% test k_anonymous(model, columns, k, partition_by=[]) %}

with classes as (

    select {{ (partition_by + columns) | join(', ') }}, count(*) as class_size
    from {{ model }}
    group by {{ (partition_by + columns) | join(', ') }}

),

sized as (

    select *, sum(class_size) over ({% if partition_by %}partition by {{ partition_by | join(', ') }}{% endif %}) as partition_size
    from classes

)

select * from sized where class_size < {{ k }} and partition_size >= {{ k }}

{% endtest %}
