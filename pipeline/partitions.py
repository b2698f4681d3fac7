"""A batch's new rows written into the lake's layout: one zstd Parquet file per (event_date,
recipient_account_id) partition, by pyarrow, straight from the batch's Arrow table.

`pipeline.batch` decides which rows are new and which partition each goes to
(`sql/ingest/stg_partition_rows.sql`); this module only writes them, under the batch's staging
folder, for `pipeline.lakewriter` to commit.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import lake as lakefs
from pipeline.errors import LakeError
from pipeline.schema import EVENT_COLUMN_NAMES, UNIQUE_VALUED

# one partition of a batch: its event_date, its recipient account, its rows of the batch's table
# (ascending)
Partition = tuple[datetime.date, str, npt.NDArray[np.int64]]

# a partition value that may become a folder name (the account comes from the logs)
_PARTITION_VALUE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# the Parquet files' row groups, in rows (DuckDB's default, as the lake's first files had)
ROW_GROUP_ROWS = 122880
# the columns written with a dictionary and min/max statistics: all but the unique-valued ones
_ENCODED_COLUMNS = [c for c in EVENT_COLUMN_NAMES if c not in UNIQUE_VALUED]
# a partition whose rows come in runs shorter than this on average is copied out of the
# batch's table rather than written from a slice per run
SHORTEST_RUNS = 64


def write(
    table: pa.Table,
    partitions: Sequence[Partition],
    target: Path,
    batch_name: str,
) -> int:
    """Write the batch's new rows as one zstd Parquet file per (event_date,
    recipient_account_id): `partitions` lists, for each, its rows of `table` (the batch's
    typed rows, `batch._publish`); return the number of rows written.

    pyarrow writes the rows straight from the Arrow table, releasing the GIL: about half the
    CPU of a DuckDB COPY per partition from a table of the rows (bench/LIMITS.md). A write
    that fails (a full disk, a permission) is a LakeError naming the batch; the error keeps
    none of the rows."""
    try:
        return _write_files(table, partitions, target, batch_name)
    except OSError as exc:
        reason = str(exc)
    del table  # the error outlives this call (Pending.wait): not the batch's rows
    raise LakeError(
        f"batch {batch_name}: writing its Parquet files under {target} failed: {reason}",
        fix="nothing of it was committed; free space on the lake's disk or fix its "
        "permissions, then run the same command again",
    )


def _write_files(
    table: pa.Table,
    partitions: Sequence[Partition],
    target: Path,
    batch_name: str,
) -> int:
    data = table.select(list(EVENT_COLUMN_NAMES))
    indices = [rows for _, _, rows in partitions]
    # partitions whose rows are scattered: copied out with one take for all of them (a take
    # joins a column's chunks first: one take a partition would copy the batch each time)
    scattered = [i for i, index in enumerate(indices) if is_scattered(index)]
    copied = (
        data.take(pa.array(np.concatenate([indices[i] for i in scattered]))) if scattered else None
    )
    # where each scattered partition's rows start in `copied` (`starts` ends with the end)
    starts = itertools.accumulate((len(indices[i]) for i in scattered), initial=0)
    copied_at = dict(zip(scattered, starts, strict=False))
    written = 0
    for i, (event_date, account, _) in enumerate(partitions):
        # the account comes from the logs: stg_events already limits it to a safe token, and
        # this check keeps any other value out of the path
        if not _PARTITION_VALUE_RE.fullmatch(str(account)):  # not `$`: it takes a final newline
            raise AssertionError(f"unsafe partition value {account!r}")
        folder = lakefs.partition_dir(target, event_date, account)
        folder.mkdir(parents=True, exist_ok=True)
        if copied is not None and i in copied_at:
            part = copied.slice(copied_at[i], len(indices[i]))
        else:
            part = runs_of(data, indices[i])
        pq.write_table(
            part,
            folder / f"part-{batch_name}-0.parquet",
            row_group_size=ROW_GROUP_ROWS,
            compression="zstd",
            compression_level=1,
            use_dictionary=_ENCODED_COLUMNS,
            write_statistics=_ENCODED_COLUMNS,
        )
        written += part.num_rows
    return written


def is_scattered(index: npt.NDArray[np.int64]) -> bool:
    """Rows (ascending) in runs shorter than `SHORTEST_RUNS` on average: copied out rather
    than written from a slice per run."""
    runs = int(np.count_nonzero(np.diff(index) != 1)) + 1
    return runs * SHORTEST_RUNS > len(index)


def runs_of(data: pa.Table, index: npt.NDArray[np.int64]) -> pa.Table:
    """`data`'s rows `index` (ascending), in that order, as zero-copy slices, one a run of
    consecutive rows (a partition's records come in runs: a delivery file is one account's,
    of a few minutes)."""
    if not len(index):
        return data.slice(0, 0)
    breaks = np.flatnonzero(np.diff(index) != 1) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(index)]))
    return pa.concat_tables(
        [data.slice(int(index[a]), int(b - a)) for a, b in zip(starts, ends, strict=True)]
    )
