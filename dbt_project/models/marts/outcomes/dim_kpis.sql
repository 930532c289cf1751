-- One row per KPI: its definition and the span of its observations.
with

kpis as (

    select * from {{ ref('stg_business__kpis') }}

),

observations as (

    select * from {{ ref('stg_impact__kpi_observations') }}

),

observation_spans as (

    select
        kpi_id,
        min(observed_on) as first_observed_on,
        max(observed_on) as last_observed_on,
        count(*) as observation_count

    from observations

    group by kpi_id

),

final as (

    select
        -- ids
        kpis.kpi_id,

        -- definition
        kpis.kpi_name,
        kpis.unit,
        kpis.area,
        kpis.aggregation,
        kpis.direction,
        kpis.cadence_days,

        -- observation span (all segments; null and 0 before the first observation)
        observation_spans.first_observed_on,
        observation_spans.last_observed_on,
        coalesce(observation_spans.observation_count, 0) as observation_count

    from kpis

    left join observation_spans
        on kpis.kpi_id = observation_spans.kpi_id

)

select * from final
