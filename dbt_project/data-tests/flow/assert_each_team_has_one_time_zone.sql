-- A team's days and weeks are counted in one time zone: the `teams` seed must not give a team
-- two different zones.
with

teams as (

    select * from {{ ref('teams') }}

)

select
    trim(team) as team,
    count(distinct trim(time_zone)) as time_zones

from teams
group by trim(team)
having count(distinct trim(time_zone)) > 1
