-- The organisation's month counts each team in its local month: per month, its throughput,
-- arrivals and month-end WIP are the sums over teams of mart_unlinked_work's.
-- reads several models: Dagster shows it as a check of mart_org_monthly
{{ config(meta={'dagster': {'ref': {'name': 'mart_org_monthly'}}}) }}

with

org_monthly as (

    select * from {{ ref('mart_org_monthly') }}

),

unlinked_work as (

    select * from {{ ref('mart_unlinked_work') }}

),

team_totals as (

    select
        month_start,
        sum(throughput) as throughput,
        sum(tasks_created) as tasks_created,
        sum(wip_at_month_end) as wip_at_month_end

    from unlinked_work
    group by month_start

)

select
    org_monthly.month_start,
    org_monthly.throughput,
    team_totals.throughput as team_throughput,
    org_monthly.tasks_created,
    team_totals.tasks_created as team_tasks_created,
    org_monthly.wip_at_month_end,
    team_totals.wip_at_month_end as team_wip_at_month_end

from org_monthly
left join team_totals
    on org_monthly.month_start = team_totals.month_start
where
    org_monthly.throughput <> coalesce(team_totals.throughput, 0)
    or org_monthly.tasks_created <> coalesce(team_totals.tasks_created, 0)
    or org_monthly.wip_at_month_end <> coalesce(team_totals.wip_at_month_end, 0)
