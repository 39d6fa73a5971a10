"""The warehouse recipes of docs/ai-training-data.md (DuckDB and PySpark), run as they are written there,
and the `assent` Python package (crates/assent-py) over PyArrow, pandas and Polars, against the CLI.

A synthetic data set of real signed receipts (grants, withdrawals, expiries, per-conversation toggles,
a notice change) and 1,000,000 chat records, one in twenty stamped `do_not_train`, is written by the
CLI crate's `dataset` example. `assent intervals` makes the table; `assent filter` keeps what it keeps;
each recipe must keep exactly the same records.

Run by `cargo xtask test`, with ASSENT (the `assent` binary), ASSENT_DATASET (the `dataset` example) and
ASSENT_COLLECTOR (the collector binary, for its interval route in NDJSON and Parquet).
"""

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "ai-training-data.md"
RECORDS = int(os.environ.get("ASSENT_WAREHOUSE_RECORDS", "1000000"))
SUBJECTS = int(os.environ.get("ASSENT_WAREHOUSE_SUBJECTS", "20000"))


def recipe(name):
    """The fenced block that follows `<!-- recipe: name -->` in the guide."""
    text = GUIDE.read_text()
    found = re.search(r"<!-- recipe: %s -->\n```\w+\n(.*?)\n```" % re.escape(name), text, re.S)
    if not found:
        raise AssertionError(f"docs/ai-training-data.md has no `<!-- recipe: {name} -->` block")
    return found.group(1)


def ids(path):
    """The `id` of every line of a JSONL file, without parsing the rest."""
    with open(path) as f:
        return [int(re.match(r'\{"id":(\d+),', line).group(1)) for line in f]


class Recipes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="assent-warehouse-")
        d = Path(cls.dir.name)
        subprocess.run([os.environ["ASSENT_DATASET"], d, str(SUBJECTS), str(RECORDS), "11"], check=True)
        (d / "messages.jsonl").symlink_to(d / "records.jsonl")
        def run(*args, out):
            with open(d / out, "w") as stdout:
                subprocess.run([os.environ["ASSENT"], *args], check=True, stdout=stdout, stderr=subprocess.PIPE)

        run("intervals", "--purpose", "ai_training", "--receipts", d / "receipts.jsonl", out="intervals.ndjson")
        run("filter", "--purpose", "ai_training", "--receipts", d / "receipts.jsonl", d / "records.jsonl",
            out="kept.jsonl")
        cls.receipts, cls.records = d / "receipts.jsonl", d / "records.jsonl"
        cls.kept = sorted(ids(d / "kept.jsonl"))
        with open(d / "records.jsonl") as f:
            cls.stamped = sum(1 for line in f if '"do_not_train":true' in line)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_the_data_set_exercises_every_rule(self):
        self.assertGreater(len(self.kept), RECORDS // 10)
        self.assertLess(len(self.kept), RECORDS * 9 // 10)
        self.assertGreater(self.stamped, RECORDS // 40)

    def test_duckdb_keeps_exactly_the_records_assent_filter_keeps(self):
        import duckdb

        con = duckdb.connect()
        cwd = os.getcwd()
        os.chdir(self.dir.name)
        try:
            con.execute(recipe("duckdb"))
        finally:
            os.chdir(cwd)
        kept = [row[0] for row in con.execute("SELECT id FROM trainable ORDER BY id").fetchall()]
        self.assertEqual(len(kept), len(set(kept)), "each message joins one span at most")
        self.assertEqual(len(kept), len(self.kept), "DuckDB and assent filter keep as many records")
        self.assertEqual(kept, self.kept, "DuckDB and assent filter keep the same records")
        # Each kept row names the receipt it relies on.
        missing = con.execute("SELECT count(*) FROM trainable WHERE receipt IS NULL").fetchone()[0]
        self.assertEqual(missing, 0)

    def test_pyspark_keeps_exactly_the_records_assent_filter_keeps(self):
        from pyspark.sql import SparkSession

        # Local mode on this machine's cores; the recipe's getOrCreate() picks this session up. The JVM
        # resolves the recipe's relative paths against the directory it starts in.
        cwd = os.getcwd()
        os.chdir(self.dir.name)
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        try:
            exec(recipe("spark"), {})
            kept = sorted(row.id for row in spark.read.json("trainable").select("id").collect())
        finally:
            os.chdir(cwd)
            spark.stop()
        self.assertEqual(len(kept), len(set(kept)), "each message joins one span at most")
        self.assertEqual(len(kept), len(self.kept), "Spark and assent filter keep as many records")
        self.assertEqual(kept, self.kept, "Spark and assent filter keep the same records")

    def test_the_python_package_keeps_exactly_the_records_assent_filter_keeps(self):
        import assent
        import pandas as pd
        import polars as pl
        import pyarrow.json

        table = pyarrow.json.read_json(self.records)
        by_receipts = assent.filter(table, "ai_training", receipts=self.receipts)
        self.assertEqual(sorted(by_receipts.column("id").to_pylist()), self.kept, "PyArrow, judged by receipts")
        # The same by the interval table, and in pandas and Polars, on the first 200,000 records.
        table_file = Path(self.dir.name) / "intervals.ndjson"
        first = table.slice(0, 200_000)
        expected = [i for i in self.kept if i < 200_000]
        self.assertGreater(len(expected), 20_000)
        for name, data in [("pyarrow", first), ("pandas", first.to_pandas()), ("polars", pl.from_arrow(first))]:
            kept = assent.filter(data, "ai_training", intervals=table_file)
            self.assertIs(type(kept), type(data), name)
            ids = kept["id"].to_list() if name != "pyarrow" else kept.column("id").to_pylist()
            self.assertEqual(sorted(ids), expected, f"{name}, judged by the interval table")
        # Dropped records are counted by reason, as `assent filter` counts them.
        keep, relied, dropped = assent.mask(first, "ai_training", intervals=table_file)
        self.assertEqual(sum(keep), len(expected))
        self.assertTrue(all(r is not None for r, k in zip(relied, keep) if k), "each kept row names its receipt")
        self.assertGreater(dropped["do_not_train"], 0)
        self.assertEqual(sum(dropped.values()) + sum(keep), 200_000)
        self.assertIsInstance(pd.DataFrame(), pd.DataFrame)

    def test_the_python_package_reads_the_same_intervals_and_gate_as_the_cli(self):
        import json

        import assent

        receipts = assent.load(self.receipts)
        self.assertEqual(len(receipts), SUBJECTS)
        table = assent.intervals(receipts, "ai_training")
        with open(Path(self.dir.name) / "intervals.ndjson") as f:
            rows = [json.loads(line) for line in f]
        self.assertEqual(table.to_pylist(), rows)
        self.assertEqual(list(assent.intervals(receipts, "ai_training", to="polars").columns), list(assent.COLUMNS))
        # The gate agrees with the table at the start of each of a sample of spans, in its own scope.
        for row in rows[:: max(1, len(rows) // 200)]:
            answer = assent.gate(receipts, row["subject"], "ai_training", row["valid_from"], row["scope"])
            self.assertEqual((answer["granted"], answer["receipt"], answer["reason"]),
                             (row["granted"], row["receipt"], row["reason"]), row)
        ok, report = assent.verify(self.receipts)
        self.assertTrue(ok, report)
        self.assertTrue(report.startswith("ok: "), report)
        self.assertRaisesRegex(ValueError, "name receipts=", assent.filter, table, "ai_training")
        self.assertRaisesRegex(OSError, "does-not-exist", assent.verify, "does-not-exist.jsonl")

    def test_the_collector_serves_the_table_as_ndjson_and_parquet_and_assent_intervals_reads_the_same(self):
        import base64
        import json
        import socket
        import time
        import urllib.request

        import duckdb
        import pyarrow.parquet as pq

        d = Path(self.dir.name)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        key, db = "warehouse-key", d / "collector.sqlite"
        collector = subprocess.Popen([os.environ["ASSENT_COLLECTOR"], "--listen", f"127.0.0.1:{port}", "--db", db,
                                      "--api-key", key], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"

        def call(path, body=None, headers=()):
            request = urllib.request.Request(base + path, data=body, headers={"authorization": f"Bearer {key}",
                                                                              **dict(headers)})
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.read(), answer.headers

        try:
            for _ in range(200):
                try:
                    call("/healthz")
                    break
                except OSError:
                    time.sleep(0.05)
            # The first 3,000 subjects' receipts, each chain in order, posted in batches as outboxes do.
            with open(self.receipts) as f:
                lines = [line.strip() for line in f]
            subject = lambda jws: json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "=="))["sub"]
            chosen = sorted({subject(jws) for jws in lines})[:3000]
            wanted = set(chosen)
            posted = [jws for jws in lines if subject(jws) in wanted]
            for i in range(0, len(posted), 100):
                body, _ = call("/v1/receipts", json.dumps({"receipts": posted[i:i + 100]}).encode())
                statuses = {r["status"] for r in json.loads(body)["results"]}
                self.assertEqual(statuses, {201}, body[:300])

            def pages(fmt):
                after, out = "", []
                while True:
                    body, headers = call(f"/v1/intervals?purpose=ai_training&limit=700&format={fmt}&after={after}")
                    out.append(body)
                    after = headers.get("assent-next-after")
                    if not after:
                        return out

            ndjson = [json.loads(line) for page in pages("ndjson") for line in page.decode().splitlines()]
            self.assertGreater(len(ndjson), 3000)
            self.assertEqual(sorted({r["subject"] for r in ndjson}), chosen, "every subject, each page once")
            files = []
            for n, page in enumerate(pages("parquet")):
                files.append(d / f"intervals-{n}.parquet")
                files[-1].write_bytes(page)
            self.assertGreater(len(files), 4, "several pages")
            self.assertEqual([f.name for f in pq.read_table(files[0]).schema], list(__import__("assent").COLUMNS))
            con = duckdb.connect()
            rel = con.execute("SELECT * FROM read_parquet(?)", [[str(f) for f in files]])
            columns = [c[0] for c in rel.description]
            parquet = [dict(zip(columns, row)) for row in rel.fetchall()]
            self.assertEqual(parquet, ndjson, "DuckDB reads the Parquet pages as the NDJSON pages")
            cli = subprocess.run([os.environ["ASSENT"], "intervals", "--purpose", "ai_training", "--receipts", db],
                                 check=True, capture_output=True, text=True).stdout
            self.assertEqual([json.loads(line) for line in cli.splitlines()], ndjson,
                             "assent intervals over the collector's database writes the same table")
        finally:
            collector.terminate()
            collector.wait()

    def test_a_python_run_signs_a_manifest_that_both_verifiers_accept_and_that_names_a_changed_table(self):
        import json

        import assent
        import pyarrow.json

        d = Path(self.dir.name)
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", d / "key.pem"], check=True)
        table = pyarrow.json.read_json(self.records).slice(0, 50_000)
        kept = assent.filter(table, "ai_training", receipts=self.receipts, manifest=d / "run.json",
                             signing_key=d / "key.pem")
        run = json.loads((d / "run.json").read_text())["manifest"]
        self.assertEqual((run["input"]["records"], run["output"]["records"]), (50_000, kept.num_rows))
        self.assertEqual(run["input"]["hashed"], "arrow-ipc")
        self.assertEqual(run["input"]["sha256"], assent.sha256(table))
        relied = run["receipts"]["reliedOn"]
        self.assertEqual(sum(r["records"] for r in relied), kept.num_rows, "every kept row names its receipt")
        self.assertEqual({r["subject"] for r in relied}, set(kept.column("subject").to_pylist()))
        ok, report = assent.verify_manifest(d / "run.json", data=table, output=kept, receipts=self.receipts)
        self.assertTrue(ok, report)
        self.assertIn("every receipt relied on verifies", report)
        cli = subprocess.run([os.environ["ASSENT"], "verify", "--manifest", d / "run.json"], capture_output=True,
                             text=True)
        self.assertEqual(cli.returncode, 0, cli.stdout + cli.stderr)
        ok, report = assent.verify_manifest(d / "run.json", data=table.slice(0, 10))
        self.assertFalse(ok)
        self.assertIn("data: its SHA-256", report)


if __name__ == "__main__":
    unittest.main()
