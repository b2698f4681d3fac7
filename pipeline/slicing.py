"""An object larger than a batch, ingested a slice at a time.

`unit_of` tells whether a batch's one object is read whole or cut, and by what: an NDJSON
export by its lines, one JSON document by the elements of its record list (walked first,
`_has_record_list`). `ingest_in_slices` cuts it (`pipeline.slices`) and stages, dedupes and
writes each slice as a batch of its own (`pipeline.batch`); the object's manifest entry and the
quarantine of all its slices commit after the last one.
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import duckdb

from pipeline import batch as batch_mod
from pipeline import lake as lakefs
from pipeline import lakewriter, quarantine, queries, scan, shapes, slices, staging
from pipeline.ingest import Batch, IngestSummary, uncompressed_size_cached


def unit_of(batch: Batch, local_paths: dict[str, Path], slice_bytes: int) -> str | None:
    """How a batch of one object larger than a slice (plan_batches gives an object larger
    than a batch a batch of its own) is read a slice at a time: by its `lines` (NDJSON), by the
    `records` of its record list (one JSON document, `_has_record_list`, a delivery file's
    too), or None: whole, as any batch."""
    if len(batch.objects) != 1:
        return None
    path = local_paths[batch.objects[0].uri]
    # a gzip trailer's size is modulo 4 GiB: the compressed size bounds it from below
    size = max(uncompressed_size_cached(str(path)), path.stat().st_size)
    if size <= slice_bytes:
        return None
    if shapes.is_delivery_name(str(path)):
        # CloudTrail's own file, one document: the compiled splitter reads it whole in about
        # 4x its size, faster than slices (85 MB: 2.2 s at 669 MiB whole, 2.9 s at 528 MiB
        # sliced), so only one that would pass 1 GiB is cut
        return "records" if size > DELIVERY_SLICED_FROM and _has_record_list(path) else None
    if shapes.is_multi_document(path):
        return "lines"
    return "records" if _has_record_list(path) else None


def utf8_sources(
    batch: Batch, local_paths: dict[str, Path], folder: Path, slice_bytes: int
) -> dict[str, Path]:
    """`local_paths`, with a batch's one object larger than a slice that is written in UTF-16
    or UTF-32 replaced by its UTF-8 copy under `folder` (`shapes.utf8_copy`), so that it is cut
    by its lines or records as any object its size: read whole (DuckDB refuses it, and then
    reads its copy), a 440 MB export held 1.2 GiB."""
    if len(batch.objects) != 1:
        return local_paths
    uri = batch.objects[0].uri
    path = local_paths[uri]
    if max(uncompressed_size_cached(str(path)), path.stat().st_size) <= slice_bytes:
        return local_paths
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"utf8-{batch.name}.json"
    return local_paths | {uri: copy} if shapes.utf8_copy(path, copy) else local_paths


DELIVERY_SLICED_FROM = 128 * 1024 * 1024  # bytes of JSON: a delivery file larger is cut too


def _has_record_list(path: Path) -> bool:
    """Whether `path` is one JSON document to read by its record list (the Records or Events
    array of its root object, or its root array): walked whole first, it must hold nothing
    DuckDB's read of the whole document might judge otherwise (`scan.DocumentWalk`), and may
    only be cut short (its records before the cut are read, and it is quarantined). Anything
    else is read whole, as any document."""
    if not scan.available():
        return False
    walk = scan.DocumentWalk(limit=staging.MAX_OBJECT_SIZE)
    try:
        for block in slices.blocks(shapes.pieces(path)):
            walk.feed(block, texts=False)
            if walk.problem is not None:
                return False
    except zlib.error:
        return False
    return walk.shape is not None


def ingest_in_slices(
    con: duckdb.DuckDBPyConnection,
    lake: Path,
    batch: Batch,
    local_path: Path,
    salt: str,
    run_id: str,
    summary: IngestSummary,
    slice_bytes: int,
    unit: str,
) -> None:
    """Ingest one large NDJSON object, or one large document's record list, a slice at a time
    (`pipeline.slices`), as `unit_of` said (`unit`: lines or records).

    Each slice is a batch of its own, committed without a manifest entry; the object's entry,
    with its whole counts, is committed after the last slice. A run killed in between leaves
    the object out of the manifest, so the next run reads it again and the dedupe keeps the
    slices already stored from being stored twice. Where a gzip stops being readable, the
    values before it are kept and the object is quarantined with the line.
    """
    obj = batch.objects[0]
    records = rejected = 0
    reasons: list[str] = []
    # The quarantine of every slice is committed with the object's entry, not with its slice:
    # a run stopped in between reads the object again, and would quarantine its rows twice.
    name = f"{batch.name}-done"
    final = lakewriter.staging_dir(lake, name)
    quarantine_to = final / lakefs.QUARANTINE_DIR
    cut_short: str | None = None  # where the gzip stopped being readable
    # scratch space that ingest and lakewriter.recover clear: never the source's own folder
    folder = lakewriter.state_dir(lake) / "downloads" / run_id / f"slices-{batch.name}"
    if unit == "lines":
        pieces = slices.cut(local_path, folder, slice_bytes)
    else:  # one document: its record list, an element a line
        pieces = slices.cut_document(
            shapes.pieces(local_path), folder, slice_bytes, staging.MAX_OBJECT_SIZE
        )
    try:
        for piece in pieces:
            part = f"{batch.name}-s{piece.index:05d}"
            key = str(piece.path)
            staged = batch_mod.stage_and_write(
                con,
                lake,
                part,
                {key: obj},
                salt,
                run_id,
                summary,
                {key: piece.lines},
                quarantine_to=quarantine_to,
            )
            n, r, _ = staged.per_file.get(obj.uri, (0, 0, False))
            records, rejected = records + n, rejected + r
            if key in staged.bad:
                reasons.append(staged.bad[key])
            batch_mod.commit(lake, part, staged.folder, [], summary)
            piece.path.unlink()
    except slices.SliceError as exc:  # raised by `cut` once the slices before it are in
        reasons.append(exc.reason)
        cut_short = exc.reason
    finally:
        pieces.close()
        shutil.rmtree(folder, ignore_errors=True)

    status = "quarantined" if reasons else "ingested"
    if cut_short is not None:
        qdir = quarantine_to / f"ingest_run={run_id}"
        qdir.mkdir(parents=True, exist_ok=True)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE quarantine_out AS "
            + queries.load("ingest/stg_quarantine_object"),
            {"uri": obj.uri, "reason": cut_short, "run": run_id},
        )
        quarantine.write_parquet(con, "quarantine_out", qdir / f"part-{name}.parquet")
    batch_mod.commit(
        lake,
        name,
        final,
        [batch_mod.manifest_entry(obj, run_id, records, rejected, status)],
        summary,
    )
    if reasons:
        summary.files_quarantined += 1
        summary.quarantined_files.append(obj.uri)
    else:
        summary.files_read += 1
