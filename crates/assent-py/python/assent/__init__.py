"""Keep "don't train on my data" attached to the data, where the data lives.

The same Rust as the `assent` CLI (``assent verify``, ``assent intervals``, ``assent filter``) over
PyArrow tables and pandas and Polars data frames::

    import assent
    ok, report = assent.verify("export.jsonl")
    receipts = assent.load("export.jsonl")                             # verified once, reused below
    table = assent.intervals(receipts, "ai_training")                  # a pyarrow.Table
    trainable = assent.filter(messages, "ai_training", receipts=receipts)
    assent.gate(receipts, subject, "ai_training", at=1795405084, scope="conversation:c-1")

See docs/ai-training-data.md.
"""

import hashlib
import os

from ._assent import COLUMNS, DROP_REASONS, STAMP_FIELDS, Judge, Receipts
from ._assent import gate as _gate
from ._assent import intervals as _intervals
from ._assent import verify as _verify
from ._assent import verify_manifest as _verify_manifest
from ._assent import write_manifest as _write_manifest

__all__ = ["COLUMNS", "DROP_REASONS", "Judge", "Receipts", "filter", "gate", "intervals", "load", "mask", "sha256",
           "verify", "verify_manifest"]


def load(path):
    """Reads and verifies receipts once: collector exports, a JSONL of JWS, or a collector's SQLite
    database. Pass the result wherever a function takes ``receipts``."""
    return Receipts(str(path))


def _receipts(receipts):
    return receipts if isinstance(receipts, Receipts) else load(receipts)


def verify(receipts, jwks=None):
    """Checks every receipt's signature, key and chain (and with ``jwks``, the collector's saved JWKS,
    its acknowledgments): ``(ok, report)``, the report being the lines ``assent verify`` prints."""
    return _verify(str(receipts), None if jwks is None else str(jwks))


def gate(receipts, subject, purpose, at, scope=None):
    """The collector's gate: may ``subject``'s data be used for ``purpose`` at ``at`` (Unix seconds) in
    ``scope`` (``None``/``"site"``, ``"conversation:<id>"``, ``"service:<name>"``)? A dict with
    ``granted``, ``reason``, ``receipt``, ``since``, ``until``, ``method``, ``decided_in`` and
    ``notice_version``."""
    return _gate(_receipts(receipts), subject, purpose, int(at), scope)


def intervals(receipts, purpose, to="pyarrow"):
    """The consent-interval table for ``purpose`` (the rows ``assent intervals`` writes), as a
    ``pyarrow.Table`` (``to="pyarrow"``), a pandas (``"pandas"``) or a Polars (``"polars"``) data frame."""
    columns = dict(zip(COLUMNS, _intervals(_receipts(receipts), purpose)))
    if to == "polars":
        import polars as pl

        return pl.DataFrame(columns, schema_overrides={"valid_from": pl.Int64, "valid_until": pl.Int64})
    import pyarrow as pa

    types = {"granted": pa.bool_(), "valid_from": pa.int64(), "valid_until": pa.int64()}
    table = pa.table({name: pa.array(values, type=types.get(name, pa.string())) for name, values in columns.items()})
    if to == "pandas":
        return table.to_pandas()
    if to != "pyarrow":
        raise ValueError(f'to={to!r}: use "pyarrow", "pandas" or "polars"')
    return table


def _kind(data):
    module = type(data).__module__.split(".")[0]
    if module in ("pyarrow", "pandas", "polars"):
        return module
    raise TypeError(f"filter takes a pyarrow.Table or a pandas or Polars DataFrame, not {type(data).__name__}")


def _column(data, kind, path):
    """The values at a dotted path (``assent.do_not_train``) as a list, ``None`` where absent."""
    names = data.column_names if kind == "pyarrow" else list(data.columns)
    n = data.num_rows if kind == "pyarrow" else len(data)
    if path in names:
        head, rest = path, []
    else:
        head, *rest = path.split(".")
        if head not in names or not rest:
            return [None] * n
    if kind == "pyarrow":
        values = data.column(head).to_pylist()
    elif kind == "pandas":
        values = data[head].astype(object).where(data[head].notna(), None).tolist()
    else:
        values = data[head].to_list()
    for key in rest:
        values = [v.get(key) if isinstance(v, dict) else None for v in values]
    return values


def _mask(data, purpose, receipts, intervals, subject, time, conversation):
    if (receipts is None) == (intervals is None):
        raise ValueError("name receipts= (exports, JSONL of JWS, a collector database) or intervals= (assent intervals)")
    judge = Judge.from_receipts(_receipts(receipts), purpose) if receipts is not None \
        else Judge.from_intervals(str(intervals), purpose)
    kind = _kind(data)
    paths = [subject, time, conversation, *STAMP_FIELDS]
    return judge.mask([_column(data, kind, p) for p in paths])


def mask(data, purpose, *, receipts=None, intervals=None, subject="subject", time="timestamp",
         conversation="conversation"):
    """Which rows of ``data`` ``filter`` keeps: ``(keep, receipts, dropped)``, a list of booleans, the
    receipt each kept row relies on, and the number of rows dropped for each reason."""
    keep, relied, dropped = _mask(data, purpose, receipts, intervals, subject, time, conversation)
    return keep, [r[0] if r else None for r in relied], dict(zip(DROP_REASONS, dropped))


def _arrow(data):
    kind = _kind(data)
    if kind == "pyarrow":
        return data
    if kind == "pandas":
        import pyarrow as pa

        return pa.Table.from_pandas(data, preserve_index=False)
    return data.to_arrow()


def sha256(data):
    """The SHA-256 a manifest records for a table: of its Arrow IPC stream (one record batch), for a
    PyArrow table or a pandas or Polars data frame; of its bytes, for a file path."""
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    import pyarrow as pa

    table = _arrow(data).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def verify_manifest(path, *, jwks=None, data=None, output=None, receipts=None):
    """Checks a manifest written by ``filter(..., manifest=)`` or ``assent filter --manifest``:
    ``(ok, report)``. ``data`` and ``output`` are the run's input and kept rows (tables, or files),
    checked against its hashes; ``jwks`` the signer's published keys; ``receipts`` those relied on."""
    return _verify_manifest(str(path), None if jwks is None else str(jwks),
                            None if data is None else sha256(data), None if output is None else sha256(output),
                            None if receipts is None else str(receipts))


def filter(data, purpose, *, receipts=None, intervals=None, subject="subject", time="timestamp",  # noqa: A001
           conversation="conversation", manifest=None, signing_key=None):
    """The rows of ``data`` whose subject had ``purpose`` granted at the row's own time, by the rule of
    ``assent filter`` and the collector's gate: a row in a conversation is judged by that conversation's
    own choice where it has one; a row stamped ``assent.do_not_train`` (or ``Content-Usage:
    train-ai=n``) is dropped for AI training. Times may be Unix seconds or milliseconds, RFC 3339 text
    or datetimes. Returns the same kind of table or data frame.

    With ``manifest=`` (a path) and ``signing_key=`` (an Ed25519 PKCS#8 PEM file), also signs the record
    of the run that ``assent filter --manifest`` writes, the tables hashed as Arrow IPC streams."""
    if (manifest is None) != (signing_key is None):
        raise ValueError("a signed manifest needs both manifest= and signing_key=")
    if receipts is not None and not isinstance(receipts, Receipts):
        receipts = load(receipts)
    keep, relied, dropped = _mask(data, purpose, receipts, intervals, subject, time, conversation)
    kind = _kind(data)
    if kind == "pyarrow":
        import pyarrow as pa

        kept = data.filter(pa.array(keep, type=pa.bool_()))
    elif kind == "pandas":
        kept = data[keep]
    else:
        import polars as pl

        kept = data.filter(pl.Series(keep, dtype=pl.Boolean))
    if manifest is not None:
        source = str(receipts.path) if receipts is not None else str(intervals)
        _write_manifest(str(manifest), str(signing_key), purpose, (sha256(data), len(keep)),
                        (sha256(kept), sum(keep)), source, receipts is None, dropped, [r for r in relied if r])
    return kept
