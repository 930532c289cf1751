-- One row per KPI × segment × observed day. A day without an observation has no row: gaps are
-- facts about the feed and are never filled.
with

observations as (

    select * from {{ ref('stg_impact__kpi_observations') }}

),

kpis as (

    select * from {{ ref('stg_business__kpis') }}

),

final as (

    select
        -- ids
        observations.kpi_id,
        observations.segment,

        -- day
        observations.observed_on,

        -- measure (the observation's own unit, else the KPI's)
        observations.observed_value,
        coalesce(observations.unit, kpis.unit) as unit,

        -- lineage: the landing file and record of the observation
        observations.source_file,
        cast(observations.source_row as {{ dbt.type_bigint() }}) as source_row

    from observations

    -- kept without a KPI definition so the relationship test can report the orphan
    left join kpis
        on observations.kpi_id = kpis.kpi_id

)

select * from final
