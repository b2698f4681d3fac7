-- name: stg_document_lines
-- grain: one row per JSON value of a batch of multi-document files (NDJSON), with its line
-- Numbers the values of a batch's NDJSON files (CloudWatch Logs, CloudTrail Lake exports, the
-- slices of a large one), all in one statement (a statement per file cost 0.1 s each). A value's
-- `doc_index` is its 0-based line in its own file (blank lines count): the n-th value a file
-- yields is on the n-th of its value lines, which the caller counted (pipeline/slices.py). The
-- files are read side by side, so values are numbered per file in the order that file yielded
-- them, never across files. Values past a file's counted lines (a line holding two values) are
-- numbered on after its last line (of the slice, for a slice of a large export).
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- reads: read_values (stg_documents over the same files)
-- params: $names (the files' paths as they are), $line_numbers (the value lines of every
-- file, one list after the other in $names order), $line_offsets and $line_counts (per file of
-- $names: where its lines start in $line_numbers, 0-based, and how many there are)
with file_lines as (
    select
        unnest(cast($names as varchar[])) as filename,
        unnest(cast($line_offsets as bigint[])) as line_offset,
        unnest(cast($line_counts as bigint[])) as line_count
),

scanned as (
    -- files read side by side: number each file's values in the order it yielded them
    select
        filename,
        doc,
        row_number() over (partition by filename order by ordinality) as value_number
    from read_values
    where len($names) > 1
    union all
    -- one file (a large export's slice): its ordinality is that order, and the window, which
    -- holds every value, is not needed
    select
        filename,
        doc,
        ordinality as value_number
    from read_values
    where len($names) = 1
)

select
    s.filename,
    s.doc,
    case
        when s.value_number <= f.line_count
            then cast($line_numbers as bigint[])[f.line_offset + s.value_number]
        when f.line_count = 0 then s.value_number - 1
        else cast($line_numbers as bigint[])[f.line_offset + f.line_count]
            + s.value_number - f.line_count
    end as doc_index
from scanned as s
inner join file_lines as f on f.filename = s.filename
