-- One row per outcome × month (grain: outcome_id, month), the months of mart_outcome_progress:
-- the monthly review a leader reads, the three questions answered in words with the numbers
-- beside them.
--   what_moved         the KPI's move in the month against the move its trajectory expected
--   what_blocked       linked tasks in WIP that are blocked or older than their team's p85
--   what_changes_next  the matched rules of mart_outcome_recommendations, in priority order
-- The facts come from int_outcome_months_summarised_for_review, the rules from
-- mart_outcome_recommendations: this model only words them.
with

facts as (

    select * from {{ ref('int_outcome_months_summarised_for_review') }}

),

recommendations as (

    select * from {{ ref('int_outcome_months_matched_to_review_rules') }}

),

recommendations_per_month as (

    select
        outcome_id,
        month,
        count(*) as recommendation_count,
        max(case when recommendation_rank = 1 then rule_id end) as next_action_rule_id,
        max(case when recommendation_rank = 1 then recommendation end) as next_action,
        {{ ordered_listagg(
            "cast(recommendation_rank as " ~ dbt.type_string() ~ ") || '. ' || recommendation"
                ~ " || '. Why: ' || reason",
            "' '",
            'recommendation_rank'
        ) }} as what_changes_next

    from recommendations
    group by outcome_id, month

),

worded as (

    select
        facts.*,
        case when facts.unit is null then '' else ' ' || facts.unit end as unit_suffix,
        {{ percent_text('facts.progress') }} as progress_text,
        {{ percent_text('facts.expected_progress') }} as expected_progress_text,
        replace(facts.status, '_', ' ') as status_text,
        -- a move toward the target has the sign of target - baseline
        case
            when facts.kpi_delta is null then null
            when round(facts.kpi_delta, 9) = 0 then false
            else (facts.kpi_delta > 0) = (facts.target_value > facts.baseline_value)
        end as is_moving_toward_target

    from facts

),

answered as (

    select
        worded.*,

        case
            when worded.actual_value is null
                then
                    'No value of ' || worded.kpi_name || ' this month'
                    || case
                        when worded.last_observed_on is null then ': never observed yet.'
                        else
                            ': last observed on '
                            || cast(worded.last_observed_on as {{ dbt.type_string() }}) || ', '
                            || cast(worded.days_since_last_observation as {{ dbt.type_string() }})
                            || ' days before ' || cast(worded.evaluated_on as {{ dbt.type_string() }})
                            || '.'
                    end
            else
                worded.kpi_name || ' '
                || case
                    when worded.previous_value is null then 'stands at '
                    when {{ round_to_decimals('worded.kpi_delta', 'worded.value_decimals') }} > 0 then 'rose from '
                    when {{ round_to_decimals('worded.kpi_delta', 'worded.value_decimals') }} < 0 then 'fell from '
                    else 'held at '
                end
                || case
                    when worded.previous_value is null then ''
                    when {{ round_to_decimals('worded.kpi_delta', 'worded.value_decimals') }} = 0 then ''
                    when worded.is_first_month
                        then
                            'the baseline '
                            || {{ number_text('worded.previous_value', 'worded.value_decimals') }}
                            || ' to '
                    else {{ number_text('worded.previous_value', 'worded.value_decimals') }} || ' to '
                end
                || {{ number_text('worded.actual_value', 'worded.value_decimals') }}
                || worded.unit_suffix
                || case
                    when worded.previous_value is null then ' (no value the month before)'
                    else
                        ' (' || {{ signed_number_text('worded.kpi_delta', 'worded.value_decimals') }}
                        || ' against ' || {{ signed_number_text('worded.expected_delta', 'worded.value_decimals') }}
                        || ' expected)'
                end
                || ': ' || coalesce(worded.progress_text, 'no measurable progress')
                || ' of the way against ' || worded.expected_progress_text || ' expected, '
                || case
                    when worded.status = 'no_data'
                        then
                            'not judged: the latest observation is '
                            || cast(worded.days_since_last_observation as {{ dbt.type_string() }})
                            || ' days old.'
                    else worded.status_text || '.'
                end
        end as what_moved,

        case
            when worded.stuck_linked_tasks > 0
                then
                    cast(worded.stuck_linked_tasks as {{ dbt.type_string() }}) || ' of the '
                    || cast(worded.linked_tasks_in_wip as {{ dbt.type_string() }})
                    || ' linked tasks in progress '
                    || case when worded.stuck_linked_tasks = 1 then 'is' else 'are' end
                    || ' stuck ('
                    || cast(worded.blocked_linked_tasks as {{ dbt.type_string() }}) || ' blocked, '
                    || cast(worded.aging_linked_tasks as {{ dbt.type_string() }})
                    || ' older than their team''s cycle-time p85); the oldest is '
                    || worded.oldest_stuck_task_id || ' (' || worded.oldest_stuck_task_team || ', '
                    || {{ number_text('worded.oldest_stuck_task_age_days', 0) }} || ' days, '
                    || worded.oldest_stuck_task_status || ').'
            when worded.linked_tasks_in_wip > 0
                then
                    'Nothing blocked: none of the '
                    || cast(worded.linked_tasks_in_wip as {{ dbt.type_string() }})
                    || ' linked tasks in progress is blocked or older than its team''s cycle-time p85.'
            else
                'No linked work in progress at the end of '
                || cast(worded.evaluated_on as {{ dbt.type_string() }}) || '.'
        end as what_blocked

    from worded

),

final as (

    select
        -- keys
        answered.outcome_id,
        answered.month,

        -- period
        answered.evaluated_on,

        -- the outcome
        answered.statement,
        answered.owner,
        answered.kpi_id,
        answered.kpi_name,
        answered.unit,
        answered.target_on,

        -- where it stands
        answered.status,
        answered.progress,
        answered.expected_progress,
        answered.execution_completeness,
        answered.is_productivity_illusion,

        -- what moved
        answered.actual_value,
        answered.previous_value,
        answered.kpi_delta,
        answered.expected_delta,
        answered.progress_delta,
        answered.expected_progress_delta,
        answered.is_moving_toward_target,
        answered.what_moved,

        -- what blocked it
        answered.linked_tasks_in_wip,
        answered.blocked_linked_tasks,
        answered.aging_linked_tasks,
        answered.stuck_linked_tasks,
        answered.oldest_stuck_task_key,
        answered.oldest_stuck_task_id,
        answered.oldest_stuck_task_age_days,
        answered.what_blocked,

        -- what changes next
        cast(recommendations_per_month.recommendation_count as bigint) as recommendation_count,
        recommendations_per_month.next_action_rule_id,
        recommendations_per_month.next_action,
        recommendations_per_month.what_changes_next

    from answered
    left join recommendations_per_month
        on
            answered.outcome_id = recommendations_per_month.outcome_id
            and answered.month = recommendations_per_month.month

)

select * from final
