-- One row per outcome × month × area (grain: outcome_id, month, area): one measure per area, its
-- value and last month's, the trend and a red/amber/green verdict from the scorecard_thresholds
-- seed. Every outcome-month of mart_outcome_progress has all five areas; an area that cannot be
-- measured says no_data rather than disappearing.
--   flow_stability   cycle time p85 / p50 of the outcome's linked completions, trailing 90 days
--   quality_signals  rework rate of the same completions
--   adoption         KPI progress - expected progress, when the outcome's KPI has area adoption
--   business_impact  the same, when the outcome's KPI has area business
--   confidence       the lower of the month's mean readiness and mean ownership scores
-- Task-based areas use the 90 local days ending with the evaluation date because an outcome
-- completes a handful of tasks a month, too few for a percentile or a rate.
{%- set trailing_window_days = var('trailing_window_days') %}

with

outcome_months as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

kpis as (

    select * from {{ ref('dim_kpis') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

survey_answers as (

    select * from {{ ref('stg_impact__confidence_surveys') }}

),

thresholds as (

    select * from {{ ref('scorecard_thresholds') }}

),

-- the five areas and the one measure that stands for each; the order is the reading order of a
-- scorecard, from execution (flow, quality) to delivery (adoption, business impact, confidence)
areas as (

    select
        'flow_stability' as area,
        1 as area_order,
        'cycle_time_p85_to_p50_ratio' as metric
    union all
    select
        'quality_signals' as area,
        2 as area_order,
        'rework_rate' as metric
    union all
    select
        'adoption' as area,
        3 as area_order,
        'kpi_progress_vs_expected' as metric
    union all
    select
        'business_impact' as area,
        4 as area_order,
        'kpi_progress_vs_expected' as metric
    union all
    select
        'confidence' as area,
        5 as area_order,
        'weaker_dimension_mean_score' as metric

),

outcome_month_windows as (

    select
        outcome_id,
        kpi_id,
        month,
        evaluated_on,
        -- first day of the trailing window; the window ends with the evaluation date
        cast(
            {{ dbt.dateadd('day', 1 - trailing_window_days, 'evaluated_on') }} as date
        ) as window_start_on,
        -- a month whose status is no_data (no or stale observation, undefined progress) has no
        -- value: an old observation is never shown as this month's
        case
            when status <> 'no_data' then progress - expected_progress
        end as kpi_progress_vs_expected,
        observation_count

    from outcome_months

),

-- completions are dated in their team's time zone, as every flow mart counts days
linked_completions as (

    select
        tasks.outcome_id,
        {{ local_date('tasks.completed_at', 'teams.time_zone') }} as completed_on,
        tasks.cycle_time_days,
        tasks.is_reopened

    from tasks
    inner join teams
        on tasks.team = teams.team
    where
        tasks.is_completed
        and tasks.outcome_id is not null

),

completions_in_window as (

    select
        outcome_month_windows.outcome_id,
        outcome_month_windows.month,
        linked_completions.cycle_time_days,
        linked_completions.is_reopened

    from outcome_month_windows
    inner join linked_completions
        on
            outcome_month_windows.outcome_id = linked_completions.outcome_id
            and outcome_month_windows.window_start_on <= linked_completions.completed_on
            and outcome_month_windows.evaluated_on >= linked_completions.completed_on

),

execution_measures as (

    select
        outcome_id,
        month,

        -- flow stability: how far the slow tail reaches beyond the typical completion.
        -- Completions done without a start have no cycle time and are left out.
        count(cycle_time_days) as completions_with_cycle_time,
        {{ percentile_continuous('cycle_time_days', 0.85) }}
        / nullif({{ percentile_continuous('cycle_time_days', 0.5) }}, 0)
            as cycle_time_p85_to_p50_ratio,

        -- quality signals: every completion counts, as in mart_quality_monthly
        count(*) as completions,
        cast(sum(case when is_reopened then 1 else 0 end) as {{ type_double() }})
        / count(*) as rework_rate

    from completions_in_window
    group by outcome_id, month

),

-- answers of the month up to its evaluation date: the month is half-open and as_of bounds it
answers_in_month as (

    select
        outcome_month_windows.outcome_id,
        outcome_month_windows.month,
        survey_answers.dimension,
        cast(survey_answers.score as {{ type_double() }}) as score

    from outcome_month_windows
    inner join survey_answers
        on
            outcome_month_windows.outcome_id = survey_answers.outcome_id
            and outcome_month_windows.month <= survey_answers.answered_on
            and outcome_month_windows.evaluated_on >= survey_answers.answered_on

),

confidence_measures as (

    select
        outcome_id,
        month,
        count(case when dimension = 'readiness' then 1 end) as readiness_answers,
        count(case when dimension = 'ownership' then 1 end) as ownership_answers,
        avg(case when dimension = 'readiness' then score end) as readiness_mean_score,
        avg(case when dimension = 'ownership' then score end) as ownership_mean_score

    from answers_in_month
    group by outcome_id, month

),

-- one row per outcome × month × area with the area's raw measure and what it rests on
measured as (

    select
        outcome_month_windows.outcome_id,
        outcome_month_windows.month,
        outcome_month_windows.evaluated_on,
        areas.area,
        areas.area_order,
        areas.metric,

        case
            when areas.area in ('flow_stability', 'quality_signals')
                then outcome_month_windows.window_start_on
            else outcome_month_windows.month
        end as measured_from,

        case areas.area
            when 'flow_stability'
                then execution_measures.cycle_time_p85_to_p50_ratio
            when 'quality_signals'
                then execution_measures.rework_rate
            -- the outcome's KPI speaks for an area only when it measures that area
            when 'adoption'
                then case
                    when kpis.area = 'adoption'
                        then outcome_month_windows.kpi_progress_vs_expected
                end
            when 'business_impact'
                then case
                    when kpis.area = 'business'
                        then outcome_month_windows.kpi_progress_vs_expected
                end
            -- both legs are needed: readiness without ownership is not confidence
            when 'confidence'
                then case
                    when
                        confidence_measures.readiness_answers > 0
                        and confidence_measures.ownership_answers > 0
                        then least(
                            confidence_measures.readiness_mean_score,
                            confidence_measures.ownership_mean_score
                        )
                end
        end as measured_value,

        case areas.area
            when 'flow_stability'
                then coalesce(execution_measures.completions_with_cycle_time, 0)
            when 'quality_signals'
                then coalesce(execution_measures.completions, 0)
            when 'adoption'
                then case
                    when kpis.area = 'adoption' then outcome_month_windows.observation_count
                    else 0
                end
            when 'business_impact'
                then case
                    when kpis.area = 'business' then outcome_month_windows.observation_count
                    else 0
                end
            when 'confidence'
                then least(
                    coalesce(confidence_measures.readiness_answers, 0),
                    coalesce(confidence_measures.ownership_answers, 0)
                )
        end as sample_size

    from outcome_month_windows
    cross join areas
    left join kpis
        on outcome_month_windows.kpi_id = kpis.kpi_id
    left join execution_measures
        on
            outcome_month_windows.outcome_id = execution_measures.outcome_id
            and outcome_month_windows.month = execution_measures.month
    left join confidence_measures
        on
            outcome_month_windows.outcome_id = confidence_measures.outcome_id
            and outcome_month_windows.month = confidence_measures.month

),

-- a value resting on too few observations is not shown: a p85 of two completions is noise
valued as (

    select
        measured.*,
        thresholds.metric as threshold_metric,
        thresholds.better,
        thresholds.green_from,
        thresholds.amber_from,
        thresholds.steady_within,
        case
            when measured.sample_size >= thresholds.minimum_sample_size
                then measured.measured_value
        end as value

    from measured
    left join thresholds
        on
            measured.area = thresholds.area
            and measured.metric = thresholds.metric

),

compared as (

    select
        valued.*,
        previous_month.value as previous_value

    from valued
    -- the calendar month before, not the row before: a gap in the months stays a gap
    left join valued as previous_month
        on
            valued.outcome_id = previous_month.outcome_id
            and valued.area = previous_month.area
            and cast({{ dbt.dateadd('month', -1, 'valued.month') }} as date)
            = previous_month.month

),

judged as (

    select
        *,

        -- values are compared rounded to 6 decimals, so a value exactly on a threshold keeps the
        -- better colour whatever binary floating point does to it (0.35 - 0.5 is
        -- -0.15000000000000002). A measure without a threshold row has no colour at all: the
        -- not-null test on rag then fails the build instead of showing it as no_data.
        case
            when threshold_metric is null then null
            when value is null then 'no_data'
            when better = 'higher' and round(value, 6) >= green_from then 'green'
            when better = 'higher' and round(value, 6) >= amber_from then 'amber'
            when better = 'lower' and round(value, 6) <= green_from then 'green'
            when better = 'lower' and round(value, 6) <= amber_from then 'amber'
            else 'red'
        end as rag,

        case
            when value is null or previous_value is null then null
            when abs(round(value - previous_value, 6)) <= steady_within then 'steady'
            when better = 'higher' and value > previous_value then 'improving'
            when better = 'lower' and value < previous_value then 'improving'
            else 'worsening'
        end as trend

    from compared

),

final as (

    select
        -- keys
        outcome_id,
        month,
        area,

        -- period
        evaluated_on,
        measured_from,

        -- measure
        area_order,
        metric,
        better,
        value,
        cast(sample_size as bigint) as sample_size,
        previous_value,
        trend,

        -- verdict
        green_from,
        amber_from,
        rag

    from judged

)

select * from final
