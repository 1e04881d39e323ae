-- CALL_WALL / PUT_WALL (level kinds 10 / 11, SPEC §7.3) as known at each minute mark of the run
-- date, SPY frame (mapped strikes K + basis). PLACEHOLDER: the option-walls issue replaces this
-- body; until then it has the final shape and no rows, so int_levels__by_bar already carries the
-- wall slots of the level union and no wall touches are produced.
-- Contract for the replacement: one row per (session_date, asof_ns) on the same minute marks as
-- int_levels__as_of_minute, values using only option prints with ts < asof_ns, NULL = no wall.

select
    null::date as session_date,
    null::bigint as asof_ns,
    null::double as call_wall,
    null::double as put_wall
where false
