-- One row per outcome: what should move, on which KPI, from where to where, by when.
-- Its logic lives in int_outcomes_joined_to_kpis, which the other models that need it
-- read too; this model publishes it under its contract.
with

final as (

    select * from {{ ref('int_outcomes_joined_to_kpis') }}

)

select * from final
