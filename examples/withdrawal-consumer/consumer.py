#!/usr/bin/env python3
"""An example consumer of the collector's changes feed: when a subject's consent to a purpose ends,
move their rows out of the training data into a quarantine table, and record what was done.

    python3 consumer.py --collector http://127.0.0.1:8787 --api-key KEY --db data.sqlite

It long-polls `GET /v1/changes?after=<cursor>&wait=25`. Each change whose `ended` names the purpose
(`ai_training` by default) moves the subject's rows from `messages` to `quarantine`: all of them for a
site-wide change, or those of one conversation for a `conversation:<id>` scope. The move, a row in
`actions` and the new cursor are one SQLite transaction, so a restart of the consumer or of the
collector neither loses a change nor applies one twice. Standard library only; see
docs/ai-training-data.md ("Withdrawals that cascade").
"""

import argparse
import json
import sqlite3
import sys
import time
import urllib.error
import urllib.request

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, conversation TEXT, timestamp INTEGER NOT NULL,
    text TEXT);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER NOT NULL, subject TEXT NOT NULL, conversation TEXT, timestamp INTEGER NOT NULL, text TEXT,
    quarantined_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    cursor TEXT PRIMARY KEY, subject TEXT NOT NULL, scope TEXT NOT NULL, purpose TEXT NOT NULL,
    receipt TEXT NOT NULL, received_at TEXT NOT NULL, rows INTEGER NOT NULL, done_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feed (id INTEGER PRIMARY KEY CHECK (id = 1), cursor TEXT NOT NULL);
INSERT OR IGNORE INTO feed (id, cursor) VALUES (1, '0');
"""


def apply(db, change, purpose):
    """One change, in one transaction with the cursor: the rows it ends consent for are quarantined. A
    change read again (from an earlier cursor) is not applied twice."""
    with db:
        done = db.execute("SELECT 1 FROM actions WHERE cursor = ?", [change["cursor"]]).fetchone()
        if purpose in change["ended"] and not done:
            where, args = "subject = ?", [change["subject"]]
            if change["scope"].startswith("conversation:"):
                where += " AND conversation = ?"
                args.append(change["scope"].removeprefix("conversation:"))
            db.execute(f"INSERT INTO quarantine SELECT id, subject, conversation, timestamp, text, ? FROM messages "
                       f"WHERE {where}", [change["receipt"], *args])
            moved = db.execute(f"DELETE FROM messages WHERE {where}", args).rowcount
            db.execute("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [change["cursor"], change["subject"], change["scope"], purpose, change["receipt"],
                        change["receivedAt"], moved, time.time()])
            print(f"quarantined {moved} rows of {change['subject']} ({change['scope']}): {purpose} ended by "
                  f"receipt {change['receipt']}", flush=True)
        db.execute("UPDATE feed SET cursor = ? WHERE id = 1", [change["cursor"]])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collector", required=True, help="the collector's base URL")
    parser.add_argument("--api-key", required=True, help="the collector's API key")
    parser.add_argument("--db", required=True, help="the SQLite file holding `messages`")
    parser.add_argument("--purpose", default="ai_training")
    parser.add_argument("--once", action="store_true", help="apply what is there, then stop")
    args = parser.parse_args()
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(SCHEMA)
    db.isolation_level = "DEFERRED"
    backoff = 1
    while True:
        cursor = db.execute("SELECT cursor FROM feed").fetchone()[0]
        wait = 0 if args.once else 25
        request = urllib.request.Request(f"{args.collector}/v1/changes?after={cursor}&wait={wait}",
                                         headers={"authorization": f"Bearer {args.api_key}"})
        try:
            with urllib.request.urlopen(request, timeout=wait + 10) as response:
                page = json.load(response)
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500:
                sys.exit(f"consumer: the collector refused: {e.code} {e.read().decode()}")
            page = None
        except OSError:
            page = None
        if page is None:
            # The collector is restarting or unreachable: ask again, waiting longer each time (at most 30 s).
            time.sleep(backoff)
            backoff = min(backoff * 2, 30)
            continue
        backoff = 1
        for change in page["changes"]:
            apply(db, change, args.purpose)
        if args.once and not page["changes"]:
            return


if __name__ == "__main__":
    main()
