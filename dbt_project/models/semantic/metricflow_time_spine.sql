-- One row per calendar day (grain: date_day) from 2000-01-01 to 2049-12-31: the time spine of
-- the semantic layer, which MetricFlow joins for cumulative metrics and for periods without rows.
-- A fixed range rather than one derived from the data, so that the spine never depends on the
-- run and a query for a day outside the data finds the day and no rows.
with

days as (

    {{ dbt.date_spine(
        'day',
        "cast('2000-01-01' as date)",
        "cast('2050-01-01' as date)"
    ) }}

),

final as (

    select cast(date_day as date) as date_day

    from days

)

select * from final
