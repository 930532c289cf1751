{#- A composite primary key: no two rows share the same values in all of the given columns.
    Fails with one row per duplicated key and how many times it occurs. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

keyed as (

    select
        {{ combination_of_columns | join(',\n        ') }}
    from {{ model }}

),

duplicated_keys as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as occurrences
    from keyed
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from duplicated_keys

{% endtest %}
