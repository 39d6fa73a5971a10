"""The warehouse recipes of docs/ai-training-data.md, run as they are written there, against the CLI.

A synthetic data set of real signed receipts (grants, withdrawals, expiries, per-conversation toggles,
a notice change) and 1,000,000 chat records, one in twenty stamped `do_not_train`, is written by the
CLI crate's `dataset` example. `assent intervals` makes the table; `assent filter` keeps what it keeps;
each recipe must keep exactly the same records.

Run by `cargo xtask test`, with ASSENT (the `assent` binary) and ASSENT_DATASET (the `dataset` example).
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


if __name__ == "__main__":
    unittest.main()
