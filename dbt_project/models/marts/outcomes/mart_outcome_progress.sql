-- One row per outcome × month: where the KPI stands against its baseline → target line, where it
-- should stand by now, and the resulting status.
-- Its logic lives in int_outcome_months_judged_against_targets, which the other models that need it
-- read too; this model publishes it under its contract.
with

final as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

)

select * from final
