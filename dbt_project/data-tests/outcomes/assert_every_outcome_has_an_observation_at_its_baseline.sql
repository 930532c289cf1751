-- Join guard (blocking; docs/data-quality.md, "Blocking: join guards"): an outcome's progress
-- is measured from its baseline value, so that value must rest on a measurement: its KPI has an
-- observation on `baseline_on` or in the KPI's cadence before it (`baseline_on - cadence_days` to
-- `baseline_on`). Without one, every progress figure, status and review line of the outcome starts
-- from a number nobody observed. Outcomes whose baseline lies after the reporting date are not
-- judged yet. Returns one row per outcome without a baseline observation, with the KPI's nearest
-- observations either side.
-- reads several models: Dagster shows it as a check of dim_outcomes
{{ config(meta={'dagster': {'ref': {'name': 'dim_outcomes'}}}) }}

with

outcomes as (

    select * from {{ ref('dim_outcomes') }}

),

kpis as (

    select * from {{ ref('dim_kpis') }}

),

observations as (

    select * from {{ ref('fct_kpi_observations') }}

),

outcomes_due as (

    select
        outcomes.outcome_id,
        outcomes.kpi_id,
        outcomes.baseline_on,
        kpis.cadence_days
    from outcomes
    inner join kpis
        on outcomes.kpi_id = kpis.kpi_id
    where outcomes.baseline_on <= {{ as_of_date() }}

),

nearest_observations as (

    select
        outcomes_due.outcome_id,
        count(*) filter (
            where observations.observed_on
            between outcomes_due.baseline_on - outcomes_due.cadence_days
            and outcomes_due.baseline_on
        ) as observations_at_baseline,
        max(observations.observed_on) filter (
            where observations.observed_on < outcomes_due.baseline_on
        ) as last_observed_before,
        min(observations.observed_on) filter (
            where observations.observed_on > outcomes_due.baseline_on
        ) as first_observed_after
    from outcomes_due
    left join observations
        on outcomes_due.kpi_id = observations.kpi_id
    group by outcomes_due.outcome_id

)

select
    outcomes_due.outcome_id,
    outcomes_due.kpi_id,
    outcomes_due.baseline_on,
    outcomes_due.cadence_days,
    nearest_observations.last_observed_before,
    nearest_observations.first_observed_after
from outcomes_due
inner join nearest_observations
    on outcomes_due.outcome_id = nearest_observations.outcome_id
where nearest_observations.observations_at_baseline = 0
