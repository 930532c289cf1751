-- One row per outcome: what should move, on which KPI, from where to where, by when.
with

outcomes as (

    select * from {{ ref('stg_business__outcomes') }}

),

kpis as (

    select * from {{ ref('stg_business__kpis') }}

),

workstreams as (

    select * from {{ ref('stg_business__workstreams') }}

),

workstream_counts as (

    select
        outcome_id,
        count(*) as workstream_count

    from workstreams

    group by outcome_id

),

final as (

    select
        -- ids
        outcomes.outcome_id,
        outcomes.statement,
        outcomes.kpi_id,

        -- KPI (null when the outcome names an undefined KPI; the relationship test reports it)
        kpis.kpi_name,
        kpis.unit,
        kpis.direction,

        -- baseline and target
        outcomes.baseline_value,
        outcomes.baseline_on,
        outcomes.target_value,
        outcomes.target_on,

        -- ownership
        outcomes.owner,
        coalesce(workstream_counts.workstream_count, 0) as workstream_count

    from outcomes

    left join kpis
        on outcomes.kpi_id = kpis.kpi_id

    left join workstream_counts
        on outcomes.outcome_id = workstream_counts.outcome_id

)

select * from final
