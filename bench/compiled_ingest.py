"""A prototype of the compiled single pass the ingest target needs (bench/LIMITS.md), measured
beside the floor as the alternative `compiled-arrow`; not part of sts-audit.

    python -m bench.floors compiled-arrow FILELIST OUT_DIR

Two processes, each over half the delivery files: gunzip (zlib), then one C pass over each
document (`bench/compiled_ingest.c`, built with the machine's C compiler on first use) that
writes every record's minified text (the lossless `raw` column), an MD5 of it, and 64 captured
fields (the strings, or the minified JSON of objects) into Arrow buffers; pyarrow types the
timestamps and booleans and writes zstd Parquet per (event date, recipient account).

What it leaves out, so a lower bound of a real one: the sessionToken redaction, dedupe against
the lake, the other input shapes, quarantine, manifest and commit; 64 of the lake's 90 columns;
records with escapes or numbers DuckDB would re-serialize differently are copied as they are.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sysconfig
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

_SOURCE = Path(__file__).with_suffix(".c")
_CACHE = (
    Path(os.environ.get("STS_AUDIT_BENCH_CACHE") or _SOURCE.parent / ".cache") / "compiled_ingest"
)
_PATHS = [
    "eventID",
    "eventTime",
    "eventVersion",
    "eventSource",
    "eventName",
    "eventType",
    "eventCategory",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestID",
    "sharedEventID",
    "readOnly",
    "managementEvent",
    "vpcEndpointId",
    "sessionCredentialFromConsole",
    "recipientAccountId",
    "addendum.reason",
    "addendum.originalEventID",
    "userIdentity.type",
    "userIdentity.principalId",
    "userIdentity.arn",
    "userIdentity.accountId",
    "userIdentity.accessKeyId",
    "userIdentity.userName",
    "userIdentity.invokedBy",
    "userIdentity.credentialId",
    "userIdentity.identityProvider",
    "userIdentity.onBehalfOf.userId",
    "userIdentity.onBehalfOf.identityStoreArn",
    "userIdentity.inScopeOf",
    "userIdentity.sessionContext.sessionIssuer.type",
    "userIdentity.sessionContext.sessionIssuer.principalId",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "userIdentity.sessionContext.sessionIssuer.accountId",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "userIdentity.sessionContext.webIdFederationData.federatedProvider",
    "userIdentity.sessionContext.webIdFederationData.attributes",
    "userIdentity.sessionContext.attributes.creationDate",
    "userIdentity.sessionContext.attributes.mfaAuthenticated",
    "userIdentity.sessionContext.sourceIdentity",
    "userIdentity.sessionContext.ec2RoleDelivery",
    "userIdentity.sessionContext.assumedRoot",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
    "resources",
    "requestParameters.roleArn",
    "requestParameters.roleSessionName",
    "requestParameters.durationSeconds",
    "requestParameters.serialNumber",
    "responseElements.credentials.accessKeyId",
    "responseElements.credentials.expiration",
    "responseElements.assumedRoleUser.arn",
    "responseElements.assumedRoleUser.assumedRoleId",
    "additionalEventData.MFAUsed",
    "additionalEventData.SamlProviderArn",
    "responseElements.subject",
    "responseElements.issuer",
    "responseElements.ConsoleLogin",
    "serviceEventDetails.role_name",
]
_T = 64
_MAX_DEPTH = 8
_MIN_BYTES = 96 << 20
_MAX_RECORDS = 75_000


class _Spec(ctypes.Structure):
    _fields_ = [
        ("ntargets", ctypes.c_int),
        ("depth", ctypes.c_int * _T),
        ("comp", (ctypes.c_char_p * _MAX_DEPTH) * _T),
        ("complen", (ctypes.c_int * _MAX_DEPTH) * _T),
    ]


class _Out(ctypes.Structure):
    _fields_ = [
        ("min", ctypes.c_void_p),
        ("mincap", ctypes.c_int64),
        ("minlen", ctypes.c_int64),
        ("rec_off", ctypes.c_void_p),
        ("rec_len", ctypes.c_void_p),
        ("rec_hash", ctypes.c_void_p),
        ("reccap", ctypes.c_int64),
        ("nrec", ctypes.c_int64),
        ("cap_off", ctypes.c_void_p),
        ("cap_len", ctypes.c_void_p),
    ]


def _library() -> ctypes.CDLL:
    source = _SOURCE.read_bytes()
    lib = _CACHE / f"scan-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if not lib.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run(
            [cc, "-O2", "-shared", "-fPIC", "-o", str(tmp), str(_SOURCE), "-lm"], check=True
        )
        tmp.replace(lib)
    so = ctypes.CDLL(str(lib))
    so.scan_delivery.restype = ctypes.c_int64
    so.scan_delivery.argtypes = [
        ctypes.POINTER(_Spec),
        ctypes.POINTER(_Out),
        ctypes.c_char_p,
        ctypes.c_int64,
    ]
    so.column_sizes.restype = None
    so.column_sizes.argtypes = [ctypes.POINTER(_Spec), ctypes.POINTER(_Out), ctypes.c_void_p]
    so.gather_all.restype = None
    so.gather_all.argtypes = [
        ctypes.POINTER(_Spec),
        ctypes.POINTER(_Out),
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    return so


class _Worker:
    def __init__(self, out_dir: Path, name: str) -> None:
        self.lib = _library()
        self.out_dir, self.name, self.part = out_dir, name, 0
        self.spec = _Spec()
        self.spec.ntargets = _T
        self.keep: list[bytes] = []
        for j, path in enumerate(_PATHS):
            parts = path.split(".")
            self.spec.depth[j] = len(parts)
            for d, comp in enumerate(parts):
                raw = comp.encode()
                self.keep.append(raw)
                self.spec.comp[j][d] = raw
                self.spec.complen[j][d] = len(raw)
        self.min = np.empty(_MIN_BYTES, dtype=np.uint8)
        self.rec_off = np.empty(_MAX_RECORDS, dtype=np.int64)
        self.rec_len = np.empty(_MAX_RECORDS, dtype=np.int64)
        self.rec_hash = np.empty(_MAX_RECORDS, dtype=np.uint64)
        self.cap_off = np.empty(_MAX_RECORDS * _T, dtype=np.int64)
        self.cap_len = np.empty(_MAX_RECORDS * _T, dtype=np.int32)
        self.out = _Out(
            self.min.ctypes.data,
            _MIN_BYTES,
            0,
            self.rec_off.ctypes.data,
            self.rec_len.ctypes.data,
            self.rec_hash.ctypes.data,
            _MAX_RECORDS,
            0,
            self.cap_off.ctypes.data,
            self.cap_len.ctypes.data,
        )

    def scan(self, doc: bytes) -> int:
        return int(self.lib.scan_delivery(self.spec, self.out, doc, len(doc)))

    def flush(self) -> int:
        n = int(self.out.nrec)
        if n == 0:
            return 0
        offsets = np.empty(n + 1, dtype=np.int64)
        offsets[0] = self.rec_off[0]
        offsets[1:] = self.rec_off[:n] + self.rec_len[:n]
        columns: dict[str, Any] = {
            "raw": pa.Array.from_buffers(
                pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(self.min)]
            ),
            "record_hash": pa.array(self.rec_hash[:n].copy()),
        }
        sizes = np.zeros(_T, dtype=np.int64)
        self.lib.column_sizes(self.spec, self.out, sizes.ctypes.data)
        data = [np.empty(int(size), dtype=np.uint8) for size in sizes]
        offs = [np.empty(n + 1, dtype=np.int64) for _ in range(_T)]
        bits = [np.empty((n + 7) // 8, dtype=np.uint8) for _ in range(_T)]
        pointers = [
            (ctypes.c_void_p * _T)(*(a.ctypes.data for a in arrays))
            for arrays in (data, offs, bits)
        ]
        self.lib.gather_all(self.spec, self.out, *pointers)
        for j, path in enumerate(_PATHS):
            columns[path.replace(".", "_")] = pa.Array.from_buffers(
                pa.large_string(),
                n,
                [pa.py_buffer(bits[j]), pa.py_buffer(offs[j]), pa.py_buffer(data[j])],
            )
        table = _typed(pa.table(columns))
        # The files arrive sorted by account and delivery day, so a batch's records come in long
        # runs of one partition (event day, recipient account); runs of one partition (those
        # delivered after midnight) are written together, without sorting the batch.
        days = table["event_date"].to_numpy(zero_copy_only=False)
        accounts = table["recipientAccountId"].to_numpy(zero_copy_only=False)
        change = np.ones(n, dtype=bool)
        change[1:] = (days[1:] != days[:-1]) | (accounts[1:] != accounts[:-1])
        starts = [*np.flatnonzero(change).tolist(), n]
        runs: dict[tuple[Any, Any], list[pa.Table]] = {}
        for a, b in zip(starts, starts[1:], strict=False):
            runs.setdefault((days[a], accounts[a]), []).append(table.slice(a, b - a))
        for (day, account), parts in runs.items():
            folder = self.out_dir / f"event_date={day}" / f"recipient_account_id={account}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                pa.concat_tables(parts),
                folder / f"part-{self.name}-{self.part}.parquet",
                compression="zstd",
                compression_level=1,
            )
        self.part += 1
        self.out.nrec = 0
        self.out.minlen = 0
        return n


def _strptime(values: Any, *formats: str) -> Any:
    parsed = [pc.strptime(values, format=f, unit="us", error_is_null=True) for f in formats]
    return pc.assume_timezone(pc.coalesce(*parsed), "UTC")


def _typed(table: pa.Table) -> pa.Table:
    creation = "userIdentity_sessionContext_attributes_creationDate"
    mfa = "userIdentity_sessionContext_attributes_mfaAuthenticated"
    event_time = _strptime(table["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
    typed = {
        "event_time": event_time,
        "session_creation_date": _strptime(table[creation], "%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ"),
        "expiration": _strptime(
            table["responseElements_credentials_expiration"],
            "%b %d, %Y, %I:%M:%S %p",
            "%b %d, %Y %I:%M:%S %p",
        ),
        "read_only": pc.equal(table["readOnly"], "true"),
        "session_mfa_authenticated": pc.equal(table[mfa], "true"),
        "event_date": pc.cast(pc.cast(event_time, pa.timestamp("us")), pa.date32()),
    }
    for name, column in typed.items():
        table = table.append_column(name, column)
    return table


def _run(args: tuple[list[str], str, str]) -> tuple[int, int]:
    paths, out_dir, name = args
    worker = _Worker(Path(out_dir), name)
    records = malformed = 0
    for path in paths:
        doc = zlib.decompress(Path(path).read_bytes(), 31)
        found = worker.scan(doc)
        if found == -2:  # the batch is full: write it, then scan the document again
            records += worker.flush()
            found = worker.scan(doc)
        if found < 0:
            malformed += 1
    records += worker.flush()
    return records, malformed


def compiled_arrow(paths: list[str], out_dir: str) -> int:
    _library()  # build once, before the workers start
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    jobs = [(paths[0::2], out_dir, "0"), (paths[1::2], out_dir, "1")]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_run, jobs))
    malformed = sum(m for _, m in results)
    if malformed:
        raise SystemExit(f"{malformed} documents the prototype could not read")
    print(sum(r for r, _ in results))
    return 0
