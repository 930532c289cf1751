-- The month's observation count and latest observation date in mart_outcome_progress agree with
-- the unsegmented rows of fct_kpi_observations: counted within [first day of the month,
-- evaluation date], latest on or before the evaluation date. Returns the rows that disagree.
{{ config(meta={'dagster': {'ref': {'name': 'mart_outcome_progress'}}}) }}
with

progress as (

    select * from {{ ref('mart_outcome_progress') }}

),

observations as (

    select * from {{ ref('fct_kpi_observations') }}
    where segment = 'all'

),

recounted as (

    select
        progress.outcome_id,
        progress.month,
        sum(
            case
                when
                    observations.observed_on >= progress.month
                    and observations.observed_on < {{ dbt.dateadd('month', 1, 'progress.month') }}
                    then 1
                else 0
            end
        ) as observation_count,
        max(observations.observed_on) as last_observed_on

    from progress

    left join observations
        on
            progress.kpi_id = observations.kpi_id
            and progress.evaluated_on >= observations.observed_on

    group by progress.outcome_id, progress.month

),

disagreements as (

    select
        progress.outcome_id,
        progress.month,
        progress.observation_count as mart_observation_count,
        recounted.observation_count as recounted_observation_count,
        progress.last_observed_on as mart_last_observed_on,
        recounted.last_observed_on as recounted_last_observed_on

    from progress

    inner join recounted
        on
            progress.outcome_id = recounted.outcome_id
            and progress.month = recounted.month

    where
        progress.observation_count <> coalesce(recounted.observation_count, 0)
        or coalesce(progress.last_observed_on, cast('1900-01-01' as date))
        <> coalesce(recounted.last_observed_on, cast('1900-01-01' as date))

)

select * from disagreements
