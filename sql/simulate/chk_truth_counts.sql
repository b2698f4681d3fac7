-- name: chk_truth_counts
-- grain: one row for the whole truth file
-- How many issuances the simulator's truth holds, and how many of them reached the lake (the
-- ones chk_truth_mismatches compares).
-- reads: truth (stg_truth)
select
    count(*) as sessions,
    count(case when delivered then 1 end) as delivered
from truth
