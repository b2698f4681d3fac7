-- name: stg_raw_records
-- grain: one row per JSON value that may be a CloudTrail record, in one batch of input files
-- Splits the documents of every shape sts-audit accepts into values: CloudTrail delivery files
-- {"Records": [...]}, a bare JSON array, NDJSON (CloudWatch Logs / CloudTrail Lake exports),
-- LookupEvents output {"Events": [{"CloudTrailEvent": "<record as a string>"}]}, EventBridge
-- envelopes {"detail-type": ..., "detail": {record}} and CloudWatch Logs subscription payloads
-- (a trail's log group through Firehose to S3) {"messageType": "DATA_MESSAGE", "logEvents":
-- [{"message": "<record as a string>"}]}, whose CONTROL_MESSAGE keep-alives are skipped, as
-- are the log events of a payload from a log stream that is no trail's (a trail's is
-- `[o-ORGID_]ACCOUNT_CloudTrail_REGION[_n]`: VPC flow logs or a Lambda's log group sent to the
-- same Firehose stream), one skipped value per log event.
-- Digest bodies found outside a CloudTrail-Digest path are flagged, not read as records. A
-- document too large to read whole comes as NDJSON slices of its list's elements, one a line,
-- each wrapped with this process's mark and the document's shape (pipeline/slices.py
-- cut_document): read as that document's record, at its index in the list.
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- reads: documents (stg_documents for single-document files, stg_document_lines for NDJSON)
-- params: $mark (slices.MARK)
with opened as (
    -- A document is parsed once for its shape: a JSON function parses the whole document at
    -- every call, and keeps an arena of about 4.5x its size (128 MiB for a 28 MB delivery
    -- file), so testing the shape path by path ran a large delivery file out of memory. The
    -- first character tells an object from an array or a scalar; one extract of every path
    -- the shape depends on parses an object, and only its Records/Events list again.
    select
        filename,
        doc_index,
        doc,
        regexp_extract(doc, '^\s*(.)', 1) as opener
    from documents
),

parts as (
    select
        filename,
        doc_index,
        doc,
        opener,
        case
            when opener = '{' then json_extract(doc, [
                '$.Records', '$.Events', '$.eventTime', '$."detail-type"', '$.detail',
                '$.digestStartTime', '$."sts-audit:mark"', '$."sts-audit:unreadable-line"',
                '$."sts-audit:why"', '$."sts-audit:shape"', '$."sts-audit:value"',
                '$.messageType', '$.logEvents', '$.logStream'
            ])
        end as p
    from opened
),

shaped as (
    -- p: 1 Records, 2 Events, 3 eventTime, 4 detail-type, 5 detail, 6 digestStartTime,
    -- 7 the wrappers' mark, 8 the unreadable line, 9 its reason, 10 the shape of the document
    -- an element wrapper's value is of, 11 that value (JSON text, or NULL for a path that is
    -- absent; an extracted value is minified, so its first character is its type),
    -- 12 messageType, 13 logEvents, 14 logStream (a CloudWatch Logs subscription payload)
    select
        filename,
        doc_index,
        doc,
        p,
        element_of,
        unreadable_element,
        case
            when element_of is not null then element_of
            when opener = '[' then 'array'
            when opener <> '{' then 'scalar'
            -- two record lists (Records and Events, neither empty, or either key twice: a
            -- JSON read takes one and would drop the other's records unseen): read as one
            -- value, rejected with that reason. The text is searched for a second key first,
            -- and only a document with one is parsed again for its keys
            when left(p[1], 1) = '[' and left(p[2], 1) = '[' and p[1] <> '[]' and p[2] <> '[]'
                then 'two_lists'
            when (case
                when p[1] is not null or p[2] is not null
                    then length(doc) - length(replace(replace(doc, '"Records"', ''), '"Events"', ''))
            end) > 9
                and (len(list_filter(json_keys(doc), lambda k: k = 'Records')) > 1
                    or len(list_filter(json_keys(doc), lambda k: k = 'Events')) > 1)
                then 'two_lists'
            -- a document whose Records or Events is not a list, or that has an eventTime of
            -- its own, is no container: read as one value, it is a record, or is rejected as
            -- one (quarantined and counted, not dropped)
            -- (an empty list beside the other is no second list: the other is read)
            when left(p[1], 1) = '[' and p[3] is null
                and (p[1] <> '[]' or left(p[2], 1) is distinct from '[') then 'records'
            when left(p[2], 1) = '[' and p[3] is null then 'lookup_events'
            when p[4] is not null and p[5] is not null then 'eventbridge'
            when json_extract_string(p[12], '$') = 'DATA_MESSAGE' and left(p[13], 1) = '['
                and p[3] is null then
                    -- a payload that names no stream is read, so nothing is left out unseen
                    case
                        when contains(json_extract_string(p[14], '$'), '_CloudTrail_') is false
                            then 'cloudwatch_other'
                        else 'cloudwatch_logs'
                    end
            -- the keep-alive CloudWatch Logs sends a subscription's destination: no record
            when json_extract_string(p[12], '$') = 'CONTROL_MESSAGE' and p[3] is null
                then 'cloudwatch_control'
            -- a digest body is a file of its own; a line of an NDJSON file shaped like one is
            -- a value that is not a record
            when doc_index is null and p[6] is not null and p[3] is null then 'digest'
            -- a line that is not JSON, wrapped by pipeline/slices.py so the rest of its file
            -- can be read: it becomes a rejected record at its own line. The wrapper carries
            -- this process's random $mark: an input line with the same keys is only a record
            -- that is not CloudTrail's, and cannot choose its reject reason
            when json_extract_string(p[7], '$') = $mark then 'unreadable'
            else 'record'
        end as shape
    from (
        -- the element wrapper carries this process's random $mark too; an unreadable line
        -- that names a document's shape is an element of that document's list that is not
        -- UTF-8 (pipeline/slices.py's mend_document): rejected at its index in the list
        select
            *,
            case when json_extract_string(p[7], '$') = $mark and p[8] is null
                and json_extract_string(p[10], '$') in ('records', 'array', 'lookup_events')
                then json_extract_string(p[10], '$') end as element_of,
            coalesce(json_extract_string(p[7], '$') = $mark and p[8] is not null
                and json_extract_string(p[10], '$') in ('records', 'array', 'lookup_events'),
                false) as unreadable_element
        from parts
    )
),

items as (
    select
        filename,
        doc_index,
        shape,
        element_of,
        unreadable_element,
        case
            -- an element of a large document's list, alone on its line: the value that list
            -- gives
            when element_of = 'lookup_events' then [coalesce(
                json_extract_string(p[11], '$.CloudTrailEvent'), cast(p[11] as varchar)
            )]
            when element_of is not null then [cast(p[11] as varchar)]
            when shape = 'array' then cast(json_extract(doc, '$[*]') as varchar[])
            when shape = 'records' then cast(json_extract(p[1], '$[*]') as varchar[])
            -- each entry's CloudTrailEvent; an entry without one is kept as it is (a value
            -- that is not a record, rejected at its position instead of skipped)
            when shape = 'lookup_events' then list_transform(
                cast(json_extract(p[2], '$[*]') as varchar[]),
                lambda e: coalesce(json_extract_string(e, '$.CloudTrailEvent'), e)
            )
            when shape = 'eventbridge' then [cast(p[5] as varchar)]
            -- each log event's message; an event without one is kept as it is (rejected)
            when shape = 'cloudwatch_logs' then list_transform(
                cast(json_extract(p[13], '$[*]') as varchar[]),
                lambda e: coalesce(json_extract_string(e, '$.message'), e)
            )
            when shape = 'cloudwatch_other' then list_transform(
                cast(json_extract(p[13], '$[*]') as varchar[]), lambda e: cast(null as varchar)
            )
            when shape in ('digest', 'cloudwatch_control') then [cast(null as varchar)]
            when shape = 'unreadable' then [json_extract_string(p[8], '$')]
            else [cast(doc as varchar)]
        end as values_in_doc,
        -- why a wrapped line could not be read (its reject reason)
        case when shape = 'unreadable' then json_extract_string(p[9], '$') end as read_problem
    from shaped
)

select
    filename,
    doc_index,
    shape,
    unnest(values_in_doc) as raw_text,
    read_problem,
    -- the 0-based line of a multi-document (NDJSON) file the value's document is on; NULL for a
    -- file read as one document, as for an element of a document read in slices
    case when element_of is null and not unreadable_element then doc_index end as line,
    -- the value's 0-based index in its document (Records, a bare array, LookupEvents, a
    -- CloudWatch Logs payload's logEvents); for a document that is itself the record, its line
    -- (0 for a file that is one record). Several records on one line (delivery documents
    -- concatenated into NDJSON) share the line
    case
        -- the slices number an element by its index in the document's list
        when element_of is not null or unreadable_element then doc_index
        when shape in ('records', 'array', 'lookup_events', 'cloudwatch_logs', 'cloudwatch_other')
            then generate_subscripts(values_in_doc, 1) - 1
        else coalesce(doc_index, 0)
    end as position
from items
