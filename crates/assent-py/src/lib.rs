//! The `assent` Python package's native module (`assent._assent`): the CLI's own Rust
//! (`assent_cli`), reached from Python. The package's `__init__.py` adapts PyArrow tables and pandas
//! and Polars data frames to these functions; see docs/ai-training-data.md.

use std::borrow::Cow;
use std::path::PathBuf;

use assent_cli::book::{Book, Judge as Rule};
use assent_cli::filter::{Drop, REASONS};
use assent_cli::record::Scalar;
use assent_core::receipt::gate as core_gate;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

fn failed(e: anyhow::Error) -> PyErr {
    match e.downcast_ref::<std::io::Error>() {
        Some(_) => PyOSError::new_err(format!("{e:#}")),
        None => PyValueError::new_err(format!("{e:#}")),
    }
}

/// Checks every receipt's signature, key and chain (and with `jwks`, the collector's acks): returns
/// `(ok, report)`, the report being the lines `assent verify` prints.
#[pyfunction]
#[pyo3(signature = (receipts, jwks=None))]
fn verify(receipts: PathBuf, jwks: Option<PathBuf>) -> PyResult<(bool, String)> {
    let mut out = Vec::new();
    let ok = assent_cli::verify::verify_to(&receipts, jwks.as_deref(), &mut out).map_err(failed)?;
    Ok((ok, String::from_utf8_lossy(&out).into_owned()))
}

/// Receipts read and verified once (`assent.load(path)`): collector exports, a JSONL of JWS, or a
/// collector's SQLite database.
#[pyclass(frozen)]
struct Receipts {
    book: Book,
    /// Where they were read from: a manifest names its hash.
    #[pyo3(get)]
    path: PathBuf,
}

#[pymethods]
impl Receipts {
    #[new]
    fn new(path: PathBuf) -> PyResult<Receipts> {
        Ok(Receipts { book: Book::load(&path).map_err(failed)?, path })
    }

    /// The number of subjects.
    fn __len__(&self) -> usize {
        self.book.by_subject.len()
    }
}

/// The interval table `assent intervals` writes, as columns in `COLUMNS` order.
#[pyfunction]
fn intervals(py: Python<'_>, receipts: &Receipts, purpose: &str) -> PyResult<Vec<Py<PyAny>>> {
    let book = &receipts.book;
    let (mut subject, mut scope, mut granted, mut from, mut until) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut receipt, mut notice, mut method, mut decided_in, mut reason) = (vec![], vec![], vec![], vec![], vec![]);
    assent_cli::intervals::each_span(book, purpose, |s, sc, span| {
        let a = &span.answer;
        subject.push(s.to_string());
        scope.push(sc.to_string());
        granted.push(a.granted);
        from.push(span.from);
        until.push(span.until);
        receipt.push(a.receipt.clone());
        notice.push(a.notice_version.clone());
        method.push(a.method.map(|m| m.as_str()));
        decided_in.push(a.decided_in.clone().unwrap_or_else(|| "site".into()));
        reason.push(a.reason);
    });
    let purposes = vec![purpose; subject.len()];
    let any = |v: Bound<'_, PyAny>| v.unbind();
    Ok(vec![
        any(subject.into_pyobject(py)?),
        any(purposes.into_pyobject(py)?),
        any(scope.into_pyobject(py)?),
        any(granted.into_pyobject(py)?),
        any(from.into_pyobject(py)?),
        any(until.into_pyobject(py)?),
        any(receipt.into_pyobject(py)?),
        any(notice.into_pyobject(py)?),
        any(method.into_pyobject(py)?),
        any(decided_in.into_pyobject(py)?),
        any(reason.into_pyobject(py)?),
    ])
}

/// The collector's gate for one subject: may their data be used for `purpose` at `at` (Unix seconds)
/// in `scope` (`None` or `site` for the site, `conversation:<id>`, `service:<name>`)?
#[pyfunction]
#[pyo3(signature = (receipts, subject, purpose, at, scope=None))]
fn gate<'py>(
    py: Python<'py>,
    receipts: &Receipts,
    subject: &str,
    purpose: &str,
    at: u64,
    scope: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let chain = receipts.book.by_subject.get(subject).map_or(&[][..], Vec::as_slice);
    let evidence = assent_cli::book::evidence(chain);
    let answer = core_gate(&evidence, purpose, at, scope.filter(|s| *s != "site"));
    let out = PyDict::new(py);
    out.set_item("granted", answer.granted)?;
    out.set_item("reason", answer.reason)?;
    out.set_item("receipt", answer.receipt)?;
    out.set_item("since", answer.since)?;
    out.set_item("until", answer.until)?;
    out.set_item("method", answer.method.map(|m| m.as_str()))?;
    out.set_item("decided_in", answer.decided_in.as_deref().unwrap_or("site"))?;
    out.set_item("notice_version", answer.notice_version)?;
    Ok(out)
}

/// A Python value as `filter` weighs a record's field: `None` is absent, a whole number or an integral
/// float is a number, a `datetime` is its Unix time.
fn scalar(v: &Bound<'_, PyAny>) -> PyResult<Option<Scalar<'static>>> {
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Some(Scalar::Bool(b.is_true())));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(Some(match v.extract::<u64>() {
            Ok(n) => Scalar::UInt(n),
            Err(_) => Scalar::Number(v.str()?.to_cow()?.into_owned()),
        }));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let f = f.value();
        return Ok(if f.is_nan() {
            None
        } else if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 {
            Some(Scalar::UInt(f as u64))
        } else {
            Some(Scalar::Number(f.to_string()))
        });
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Some(Scalar::Str(Cow::Owned(s.to_cow()?.into_owned()))));
    }
    // datetime, pandas.Timestamp: their Unix time, in whole seconds.
    if let Ok(t) = v.call_method0("timestamp").and_then(|t| t.extract::<f64>()) {
        return Ok((t >= 0.0).then_some(Scalar::UInt(t as u64)));
    }
    Ok(Some(Scalar::Other))
}

/// Judges records by consent at their own time: the same rule as `assent filter`, from receipts or
/// from an interval table.
#[pyclass(frozen)]
struct Judge {
    rule: Rule,
    ai: bool,
}

#[pymethods]
impl Judge {
    /// From receipts (`assent.load(path)`).
    #[staticmethod]
    fn from_receipts(receipts: &Receipts, purpose: &str) -> Judge {
        Judge { rule: Rule::from_book(&receipts.book, purpose), ai: purpose == "ai_training" }
    }

    /// From the interval table `assent intervals` wrote for `purpose`.
    #[staticmethod]
    fn from_intervals(path: PathBuf, purpose: &str) -> PyResult<Judge> {
        Ok(Judge { rule: Rule::from_table(&path, purpose).map_err(failed)?, ai: purpose == "ai_training" })
    }

    /// For columns of equal length (subject, time, conversation, then `STAMP_FIELDS`), which records
    /// to keep, for each kept
    /// one `(receipt, subject, scope it decided in)`, and the number dropped for each reason in
    /// `DROP_REASONS`.
    #[allow(clippy::type_complexity)]
    fn mask(
        &self,
        columns: Vec<Vec<Bound<'_, PyAny>>>,
    ) -> PyResult<(Vec<bool>, Vec<Option<(String, String, String)>>, Vec<usize>)> {
        let n = columns.first().map_or(0, Vec::len);
        if columns.len() != 7 || columns.iter().any(|c| c.len() != n) {
            return Err(PyValueError::new_err("mask takes seven columns of equal length"));
        }
        let (mut keep, mut relied, mut dropped) =
            (Vec::with_capacity(n), Vec::with_capacity(n), vec![0; REASONS.len()]);
        for row in 0..n {
            let mut values: [Option<Scalar<'static>>; 7] = Default::default();
            for (slot, column) in values.iter_mut().zip(&columns) {
                *slot = scalar(&column[row])?;
            }
            match self.rule.verdict(self.ai, &values) {
                Ok((subject, span, _)) => {
                    keep.push(true);
                    let decided_in = span.answer.decided_in.clone().unwrap_or_else(|| "site".into());
                    relied.push(Some((
                        span.answer.receipt.clone().unwrap_or_default(),
                        subject.to_string(),
                        decided_in,
                    )));
                }
                Err(reason) => {
                    dropped[reason as usize] += 1;
                    keep.push(false);
                    relied.push(None);
                }
            }
        }
        debug_assert_eq!(Drop::NotJson as usize, REASONS.len() - 1);
        Ok((keep, relied, dropped))
    }
}

/// Signs the manifest of a run made in Python (`assent.filter(..., manifest=, signing_key=)`): the same
/// file `assent filter --manifest` writes, with the tables hashed as Arrow IPC streams.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn write_manifest(
    path: PathBuf,
    signing_key: PathBuf,
    purpose: &str,
    input: (String, usize),
    output: (String, usize),
    source: PathBuf,
    from_intervals: bool,
    dropped: Vec<usize>,
    relied: Vec<(String, String, String)>,
) -> PyResult<()> {
    let key = assent_cli::manifest::signing_key(&signing_key).map_err(failed)?;
    if dropped.len() != REASONS.len() {
        return Err(PyValueError::new_err("dropped: one count for each of DROP_REASONS"));
    }
    let mut counts = std::collections::HashMap::new();
    for r in relied {
        *counts.entry(r).or_default() += 1;
    }
    let run = assent_cli::manifest::Run {
        purpose,
        hashed: "arrow-ipc",
        input,
        output,
        receipts: &source,
        judged_by: if from_intervals { "intervals" } else { "receipts" },
        dropped: REASONS.iter().copied().zip(dropped).collect(),
        relied: counts,
    };
    assent_cli::manifest::write(&path, &key, &run).map_err(failed)
}

/// Checks a manifest (`assent verify --manifest`): `(ok, report)`. `data` and `output` are SHA-256
/// hashes computed by the caller (files, or tables as Arrow IPC streams), `jwks` and `receipts` paths.
#[pyfunction]
#[pyo3(signature = (path, jwks=None, data=None, output=None, receipts=None))]
fn verify_manifest(
    path: PathBuf,
    jwks: Option<PathBuf>,
    data: Option<String>,
    output: Option<String>,
    receipts: Option<PathBuf>,
) -> PyResult<(bool, String)> {
    use assent_cli::manifest::{Against, Digest};
    let against = Against {
        jwks: jwks.as_deref(),
        data: data.map(|h| Digest::Sha256(h, "data")),
        output: output.map(|h| Digest::Sha256(h, "output")),
        receipts: receipts.as_deref(),
    };
    let mut out = Vec::new();
    let ok = assent_cli::manifest::verify_to(&path, &against, &mut out).map_err(failed)?;
    Ok((ok, String::from_utf8_lossy(&out).into_owned()))
}

#[pymodule]
fn _assent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(intervals, m)?)?;
    m.add_function(wrap_pyfunction!(gate, m)?)?;
    m.add_function(wrap_pyfunction!(write_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(verify_manifest, m)?)?;
    m.add_class::<Judge>()?;
    m.add_class::<Receipts>()?;
    m.add("COLUMNS", assent_cli::intervals::COLUMNS.to_vec())?;
    m.add("DROP_REASONS", REASONS.to_vec())?;
    m.add("STAMP_FIELDS", assent_cli::filter::STAMP_FIELDS.to_vec())?;
    Ok(())
}
