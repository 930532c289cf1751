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
--   50 start_linked_work                 not achieved, inside its window, no linked task in WIP
--                                        and none done in zombie_recent_completion_days
--   60 replan_remaining_work             as_of month: the remaining linked work is done by the
--                                        target date in < review_min_probability_by_target trials
--   70 decide_past_target                behind after its target date
--   80 review_work_on_achieved_outcome   achieved with linked tasks still in WIP
--   90 review_plan                       behind, and no rule above explains it
--   99 continue                          on track or achieved, and no rule above applies
-- To add a rule: add a CTE that selects the outcome-months it applies to with its rule_id,
-- priority, recommendation and reason, union it into matched_rules, document it in the YAML and
-- give it a unit test.
-- Its logic lives in int_outcome_months_matched_to_review_rules, which the other models that need it
-- read too; this model publishes it under its contract.
with

outcome_months_matched_to_review_rules as (

    select * from {{ ref('int_outcome_months_matched_to_review_rules') }}

),

final as (

    select
        outcome_id,
        month,
        rule_id,
        evaluated_on,
        rule_priority,
        recommendation_rank,
        recommendation,
        reason

    from outcome_months_matched_to_review_rules

)

select * from final
