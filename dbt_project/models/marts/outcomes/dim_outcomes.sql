-- One row per outcome: what should move, on which KPI, from where to where, by when.
-- Its logic lives in int_outcomes_joined_to_kpis, which the other models that need it
-- read too; this model publishes it under its contract.
with

outcomes_joined_to_kpis as (

    select * from {{ ref('int_outcomes_joined_to_kpis') }}

),

final as (

    select
        outcome_id,
        statement,
        kpi_id,
        kpi_name,
        unit,
        direction,
        baseline_value,
        baseline_on,
        target_value,
        target_on,
        owner,
        workstream_count

    from outcomes_joined_to_kpis

)

select * from final
