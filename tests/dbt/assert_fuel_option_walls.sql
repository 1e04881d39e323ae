-- CALL_WALL / PUT_WALL (int_levels__option_walls) against their definition, checked from the data:
-- one row per minute mark of int_levels__as_of_minute; a wall is the mapped strike of a contract of
-- that right with an open dealer position at that mark, within ±fuel_wall_range of the spot, with
-- the largest |dealer_gamma| there; no wall exactly when no contract of that right qualifies.
-- Returns offending (mark, right) rows.
with walls as (
    select * from {{ ref('int_levels__option_walls') }}
),

marks as (
    select asof_ns from {{ ref('int_levels__as_of_minute') }}
),

missing_marks as (
    select m.asof_ns, 'mark' as what
    from marks as m
    full outer join walls as w using (asof_ns)
    where m.asof_ns is null or w.asof_ns is null
),

candidates as (
    select asof_ns, option_right, mapped_strike, abs(dealer_gamma) as abs_gamma
    from {{ ref('int_options__dealer_gamma') }}
    where abs(mapped_strike - spot) <= {{ fuel_wall_range() }} + {{ fuel_tolerance() }}
        and dealer_gamma <> 0
),

best as (
    select asof_ns, option_right, max(abs_gamma) as max_abs_gamma
    from candidates
    group by all
),

walls_long as (
    select asof_ns, 'C' as option_right, call_wall as wall from walls
    union all
    select asof_ns, 'P', put_wall from walls
),

checked as (
    select
        w.asof_ns,
        w.option_right,
        w.wall,
        b.max_abs_gamma,
        (
            select max(c.abs_gamma)
            from candidates as c
            where c.asof_ns = w.asof_ns and c.option_right = w.option_right
                and abs(c.mapped_strike - w.wall) < 1e-9
        ) as wall_abs_gamma
    from walls_long as w
    left join best as b using (asof_ns, option_right)
)

select asof_ns, what from missing_marks
union all
select asof_ns, 'wall ' || option_right
from checked
where (wall is null) <> (max_abs_gamma is null)
    or (wall is not null and wall_abs_gamma is distinct from max_abs_gamma)
