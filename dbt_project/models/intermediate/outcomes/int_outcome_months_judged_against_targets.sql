-- One row per outcome × month: where the KPI stands against its baseline → target line, where it
-- should stand by now, and the resulting status.
with

outcome_months as (

    select * from {{ ref('int_outcome_months_joined_to_kpi_values') }}

),

thresholds as (

    select * from {{ ref('outcome_status_thresholds') }}

),

status_tolerances as (

    {{ pivot_thresholds('thresholds', [
        ('on_track_tolerance', type_double()),
        ('at_risk_tolerance', type_double()),
    ]) }}

),

window_days as (

    select
        *,
        cast({{ dbt.datediff('baseline_on', 'evaluated_on', 'day') }} as bigint) as days_elapsed,
        cast({{ dbt.datediff('baseline_on', 'target_on', 'day') }} as bigint) as days_in_window

    from outcome_months

),

measured as (

    select
        *,

        -- share of the baseline → target distance covered; a fall is positive progress for a
        -- decrease KPI because its target lies below its baseline. Undefined when the target
        -- equals the baseline.
        (actual_value - baseline_value)
        / nullif(target_value - baseline_value, 0) as progress,

        -- share of the baseline → target window elapsed at the evaluation date, within [0, 1];
        -- a window of no length (target date not after the baseline date) counts as not started
        -- before its target date and as fully elapsed from it on
        case
            when days_in_window <= 0
                then case when evaluated_on >= target_on then 1.0 else 0.0 end
            else least(
                greatest(
                    cast(days_elapsed as {{ type_double() }})
                    / cast(days_in_window as {{ type_double() }}),
                    0.0
                ),
                1.0
            )
        end as expected_progress

    from window_days

),

classified as (

    select
        measured.*,

        -- where the KPI should stand today on a straight line from baseline to target
        measured.baseline_value
        + measured.expected_progress * (measured.target_value - measured.baseline_value)
            as expected_value,

        -- precedence: no_data, achieved, on_track, at_risk, off_track. Comparisons use values
        -- rounded to 6 decimals so a progress exactly on a tolerance edge stays on its side
        -- whatever binary floating point does to the subtraction.
        case
            when
                measured.progress is null
                or measured.last_observed_on is null
                or measured.days_since_last_observation > 2 * measured.cadence_days
                then 'no_data'
            when round(measured.progress, 6) >= 1
                then 'achieved'
            when
                round(measured.progress - measured.expected_progress, 6)
                >= -status_tolerances.on_track_tolerance
                then 'on_track'
            when
                round(measured.progress - measured.expected_progress, 6)
                >= -status_tolerances.at_risk_tolerance
                then 'at_risk'
            else 'off_track'
        end as status

    from measured

    cross join status_tolerances

),

final as (

    select
        -- ids
        outcome_id,
        kpi_id,

        -- period
        month,
        evaluated_on,
        -- judged before the month ended: a summed KPI is pro-rated to the whole month, an
        -- average or last value rests on the observations so far
        evaluated_on < {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month')) }}
            as is_partial_month,

        -- baseline and target
        baseline_value,
        target_value,

        -- observed
        actual_value,
        observation_count,
        last_observed_on,
        days_since_last_observation,

        -- progress
        progress,
        expected_progress,
        expected_value,
        status

    from classified

)

select * from final
