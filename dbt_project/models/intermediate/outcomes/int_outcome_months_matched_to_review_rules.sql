-- One row per outcome × month × matched rule (grain: outcome_id, month, rule_id): the monthly
-- review's "what changes next". Every rule of the review lives here, one CTE each, in priority
-- order; its thresholds are rows of the delivery_thresholds seed. A rule gives a recommendation
-- (what to do) and its reason (the numbers that triggered it). Every outcome-month matches at
-- least one rule: the last two are fallbacks for a month no other rule speaks to.
--   10 fix_kpi_feed                      status no_data: the KPI feed is stale or empty
--   20 investigate_illusion              productivity illusion: the work is done, the KPI lags
--   30 unblock_linked_work               behind, with linked WIP blocked or older than the team's p85
--   40 pause_unlinked_work               behind, and a team on it spends > review_unlinked_share_max
--                                        of its month's throughput on work that reaches no outcome
--   50 start_linked_work                 not achieved, inside its window, no active work
--                                        (int_outcome_days_assessed_for_active_work)
--   60 replan_remaining_work             as_of month: the remaining linked work is done by the
--                                        target date in < review_min_probability_by_target trials
--   70 decide_past_target                behind after its target date
--   80 review_work_on_achieved_outcome   achieved with linked tasks still in WIP
--   90 review_plan                       behind, and no rule above explains it
--   99 continue                          on track or achieved, and no rule above applies
-- To add a rule: add a CTE that selects the outcome-months it applies to with its rule_id,
-- priority, recommendation and reason, union it into matched_rules, document it in the YAML and
-- give it a unit test.
with

facts as (

    select * from {{ ref('int_outcome_months_summarised_for_review') }}

),

linked_task_months as (

    select * from {{ ref('int_linked_tasks_joined_to_outcome_months') }}

),

unlinked_work as (

    select * from {{ ref('int_team_months_aggregated_to_unlinked_work') }}

),

thresholds as (

    select * from {{ ref('int_delivery_thresholds_pivoted') }}

),

rule_thresholds as (

    select
        zombie_recent_completion_days as recent_completion_days,
        review_unlinked_share_max as unlinked_share_max,
        review_min_probability_by_target as min_probability_by_target

    from thresholds

),

-- the words and numbers the sentences share
worded as (

    select
        facts.*,
        {{ percent_text('facts.progress') }} as progress_text,
        {{ percent_text('facts.expected_progress') }} as expected_progress_text,
        replace(facts.status, '_', ' ') as status_text,
        cast(facts.evaluated_on as {{ dbt.type_string() }}) as evaluated_on_text,
        case
            when facts.cadence_days = 1 then 'every day'
            else 'every ' || cast(facts.cadence_days as {{ dbt.type_string() }}) || ' days'
        end as cadence_text

    from facts

),

fix_kpi_feed as (

    select
        outcome_id,
        month,
        'fix_kpi_feed' as rule_id,
        10 as rule_priority,
        case
            when last_observed_on is null
                then 'Fix the KPI feed: ' || kpi_name || ' has no observation yet'
            when days_since_last_observation > 2 * cadence_days
                then
                    'Fix the KPI feed: ' || kpi_name || ' is stale for '
                    || cast(days_since_last_observation as {{ dbt.type_string() }}) || ' days'
            when actual_value is null
                then 'Check the KPI feed: ' || kpi_name || ' has no observation this month'
            else 'Fix the outcome definition: its target equals its baseline'
        end as recommendation,
        case
            when last_observed_on is null
                then
                    'No observation since the baseline ('
                    || cast(baseline_on as {{ dbt.type_string() }})
                    || '): the outcome''s progress cannot be judged.'
            when days_since_last_observation > 2 * cadence_days
                then
                    'Last observed on ' || cast(last_observed_on as {{ dbt.type_string() }})
                    || ', ' || cast(days_since_last_observation as {{ dbt.type_string() }})
                    || ' days before ' || evaluated_on_text || ', while it is expected '
                    || cadence_text || ': the outcome''s progress cannot be judged.'
            when actual_value is null
                then
                    'The latest observation (' || cast(last_observed_on as {{ dbt.type_string() }})
                    || ') is recent, but none falls in the month, so the month has no value.'
            else 'Progress is undefined while the target equals the baseline.'
        end as reason

    from worded
    where status = 'no_data'

),

investigate_illusion as (

    select
        outcome_id,
        month,
        'investigate_illusion' as rule_id,
        20 as rule_priority,
        'Investigate: the linked work is done but ' || kpi_name
        || ' lags; test the workstreams'' hypotheses' as recommendation,
        upper(substring(illusion_reason, 1, 1)) || substring(illusion_reason, 2) || '.' as reason

    from worded
    where is_productivity_illusion

),

unblock_linked_work as (

    select
        outcome_id,
        month,
        'unblock_linked_work' as rule_id,
        30 as rule_priority,
        case
            when stuck_linked_tasks = 1
                then 'Unblock or re-plan ' || oldest_stuck_task_id
            else
                'Unblock or re-plan the ' || cast(stuck_linked_tasks as {{ dbt.type_string() }})
                || ' stuck linked tasks, oldest first: ' || oldest_stuck_task_id
        end as recommendation,
        cast(blocked_linked_tasks as {{ dbt.type_string() }}) || ' blocked and '
        || cast(aging_linked_tasks as {{ dbt.type_string() }})
        || ' older than their team''s cycle-time p85 at the end of ' || evaluated_on_text
        || '; the oldest, ' || oldest_stuck_task_id || ' (' || oldest_stuck_task_team || '), is '
        || {{ number_text('oldest_stuck_task_age_days', 0) }} || ' days old in '
        || oldest_stuck_task_status || '.' as reason

    from worded
    where
        stuck_linked_tasks > 0
        -- an outcome on track is not held back by them: they stay in what_blocked, and the
        -- month's advice is to continue
        and status in ('at_risk', 'off_track')

),

-- the teams working on an outcome in a month: a linked task in WIP at the evaluation or done in
-- the month
outcome_teams as (

    select distinct
        outcome_id,
        month,
        team

    from linked_task_months
    where
        is_in_wip
        or (status_category = 'done' and status_entered_on >= month)

),

unlinked_heavy_teams as (

    select
        outcome_teams.outcome_id,
        outcome_teams.month,
        outcome_teams.team,
        unlinked_work.unlinked_throughput_share

    from outcome_teams
    inner join unlinked_work
        on
            outcome_teams.team = unlinked_work.team
            and outcome_teams.month = unlinked_work.month
    cross join rule_thresholds
    where round(unlinked_work.unlinked_throughput_share, 6) > rule_thresholds.unlinked_share_max

),

pause_unlinked_work as (

    select
        worded.outcome_id,
        worded.month,
        'pause_unlinked_work' as rule_id,
        40 as rule_priority,
        'Pause unlinked work in '
        || {{ ordered_listagg(
            'unlinked_heavy_teams.team',
            "', '",
            'unlinked_heavy_teams.unlinked_throughput_share desc nulls last, unlinked_heavy_teams.team asc nulls last'
        ) }} as recommendation,
        {{ ordered_listagg(
            "unlinked_heavy_teams.team || ' spent ' || "
                ~ percent_text('unlinked_heavy_teams.unlinked_throughput_share')
                ~ " || ' of its throughput this month on work that reaches no outcome'",
            "'; '",
            'unlinked_heavy_teams.unlinked_throughput_share desc nulls last, unlinked_heavy_teams.team asc nulls last'
        ) }}
        || ', while the outcome is ' || max(worded.status_text) || ' ('
        || max(worded.progress_text) || ' of the way against '
        || max(worded.expected_progress_text) || ' expected).' as reason

    from worded
    inner join unlinked_heavy_teams
        on
            worded.outcome_id = unlinked_heavy_teams.outcome_id
            and worded.month = unlinked_heavy_teams.month
    where worded.status in ('at_risk', 'off_track')
    group by worded.outcome_id, worded.month

),

start_linked_work as (

    select
        worded.outcome_id,
        worded.month,
        'start_linked_work' as rule_id,
        50 as rule_priority,
        'Start or link work: nothing linked to the outcome is in progress' as recommendation,
        'No linked task is in progress at the end of ' || worded.evaluated_on_text
        || ' and none was completed in the '
        || cast(rule_thresholds.recent_completion_days as {{ dbt.type_string() }})
        || ' days to it'
        || case
            when worded.last_linked_completion_on is null then ''
            else
                ' (the last on '
                || cast(worded.last_linked_completion_on as {{ dbt.type_string() }}) || ')'
        end
        || ', while the target date is ' || cast(worded.target_on as {{ dbt.type_string() }})
        || '.' as reason

    from worded
    cross join rule_thresholds
    where
        worded.status <> 'achieved'
        and worded.evaluated_on >= worded.baseline_on
        and worded.evaluated_on <= worded.target_on
        and not worded.has_active_work

),

replan_remaining_work as (

    select
        worded.outcome_id,
        worded.month,
        'replan_remaining_work' as rule_id,
        60 as rule_priority,
        'Re-plan: cut scope or add capacity to finish the '
        || cast(worded.forecast_remaining_tasks as {{ dbt.type_string() }})
        || ' remaining linked tasks by ' || cast(worded.target_on as {{ dbt.type_string() }})
            as recommendation,
        'The delivery forecast finishes them by the target date in '
        || {{ percent_text('worded.probability_done_by_target') }} || ' of trials; '
        || case
            when worded.forecast_p85_on is null
                then 'fewer than 85% of trials finish within the forecast horizon'
            else '85% of trials finish by ' || cast(worded.forecast_p85_on as {{ dbt.type_string() }})
        end
        || '.' as reason

    from worded
    cross join rule_thresholds
    where
        round(worded.probability_done_by_target, 6) < rule_thresholds.min_probability_by_target

),

decide_past_target as (

    select
        outcome_id,
        month,
        'decide_past_target' as rule_id,
        70 as rule_priority,
        'Decide: set a new target date or close the outcome' as recommendation,
        'The target date ' || cast(target_on as {{ dbt.type_string() }}) || ' has passed with '
        || progress_text || ' of the way covered (' || status_text || ').' as reason

    from worded
    where
        evaluated_on > target_on
        and status in ('at_risk', 'off_track')

),

review_work_on_achieved_outcome as (

    select
        outcome_id,
        month,
        'review_work_on_achieved_outcome' as rule_id,
        80 as rule_priority,
        'Review the ' || cast(linked_tasks_in_wip as {{ dbt.type_string() }})
        || ' linked tasks still in progress: the target is reached' as recommendation,
        kpi_name || ' has reached its target (' || progress_text
        || ' of the way); work still linked to it may serve another outcome better.' as reason

    from worded
    where
        status = 'achieved'
        and linked_tasks_in_wip > 0

),

specific_rules as (

    select * from fix_kpi_feed
    union all
    select * from investigate_illusion
    union all
    select * from unblock_linked_work
    union all
    select * from pause_unlinked_work
    union all
    select * from start_linked_work
    union all
    select * from replan_remaining_work
    union all
    select * from decide_past_target
    union all
    select * from review_work_on_achieved_outcome

),

months_with_specific_rule as (

    select distinct
        outcome_id,
        month

    from specific_rules

),

months_without_specific_rule as (

    select worded.*

    from worded
    left join months_with_specific_rule
        on
            worded.outcome_id = months_with_specific_rule.outcome_id
            and worded.month = months_with_specific_rule.month
    where months_with_specific_rule.outcome_id is null

),

review_plan as (

    select
        outcome_id,
        month,
        'review_plan' as rule_id,
        90 as rule_priority,
        'Review the plan with ' || coalesce(owner, 'the outcome owner') as recommendation,
        kpi_name || ' is ' || status_text || ' (' || progress_text || ' of the way against '
        || expected_progress_text
        || ' expected) with no stale feed, illusion, stuck work or unlinked work to explain it.'
            as reason

    from months_without_specific_rule
    where status in ('at_risk', 'off_track')

),

continue_course as (

    select
        outcome_id,
        month,
        'continue' as rule_id,
        99 as rule_priority,
        case
            when status = 'achieved' then 'Continue: the target is reached'
            else 'Continue: on track'
        end as recommendation,
        kpi_name || ' has covered ' || progress_text || ' of the way against '
        || expected_progress_text || ' expected, and no rule calls for a change.' as reason

    from months_without_specific_rule
    where status in ('on_track', 'achieved')

),

matched_rules as (

    select * from specific_rules
    union all
    select * from review_plan
    union all
    select * from continue_course

),

final as (

    select
        -- keys
        matched_rules.outcome_id,
        matched_rules.month,
        matched_rules.rule_id,

        -- period
        facts.evaluated_on,

        -- the rule's verdict
        matched_rules.rule_priority,
        cast(row_number() over (
            partition by matched_rules.outcome_id, matched_rules.month
            order by matched_rules.rule_priority
        ) as bigint) as recommendation_rank,
        matched_rules.recommendation,
        matched_rules.reason

    from matched_rules
    inner join facts
        on
            matched_rules.outcome_id = facts.outcome_id
            and matched_rules.month = facts.month

)

select * from final
