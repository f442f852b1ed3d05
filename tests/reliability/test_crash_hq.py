#!/usr/bin/env python3
"""retas-hq killed with SIGKILL at random points while a van uploads to it.

A real retasd (no devices: its records come from retas-seed-records, the
daemon's own store code, while it is stopped) syncs to a real
`retas-hq serve` on a fixed loopback port. Each round adds records to the
van, starts head office, asks the van to sync and kills head office at a
random moment of the upload, the ingest or the reply. Right after each kill,
head office's store (read only) passes `PRAGMA integrity_check` and every
batch in it has its receipt and every record its manifest lists: a batch is
stored whole with its receipt or not at all. The next round's server
recovers what it can and the van's retry carries on. At the end the van
syncs to completion: every record acknowledged at the van, and present
exactly once at head office with the van's hash.

Where each kill landed is read from head office's store: an upload cut off
mid-way, an upload complete but not ingested (killed in the ingest or just
before it), or after the batch was ingested.

RETAS_CRASH_KILLS sets the number of kills (default 20; the long mode uses
200), RETAS_CRASH_SEED replays a run. Writes crash-hq.json to
$RETAS_FIGURES_DIR.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from crash_common import (VAN, HqServer, VanStore, audit_ok, cli, compare_with_hq,  # noqa: E402
                          drain, integrity, kills_wanted, last_json, make_rng,
                          van_for_hq, write_figures)
from harness import NIP, PIN, RETAS, Daemon, Keys  # noqa: E402

OPEN_RECORD = os.environ["OPEN_RECORD"]


class CrashHqBase(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="retas-crash-hq-")
        self.d = Daemon(self.tmp)
        self.hq = None
        self.sync = None

    def tearDown(self):
        if self.sync and self.sync.poll() is None:
            self.sync.kill()
            self.sync.wait()
        if self.d.proc:
            self.d.kill()
        if self.hq:
            if self.hq.proc:
                self.hq.kill()
        if os.environ.get("RETAS_CRASH_KEEP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def setup_van(self):
        self.hq = HqServer(self.tmp, request_timeout=2)
        keys = Keys(self.tmp, self.d)
        letter, seal = van_for_hq(self.hq, keys, self.d.conf,
                                  "backoff_base = 50\nbackoff_cap = 300\nchunk_size = 64\n"
                                  "batch_size = 1\n")
        self.d.start()
        for args, stdin in ((("assignment", "load", letter), None),
                            (("login", NIP, "--pin-stdin"), PIN + "\n"),
                            (("session", "open"), None)):
            p = cli(self.d.sock, *args, stdin=stdin)
            self.assertEqual(p.returncode, 0, f"{args}: {p.stdout}{p.stderr}")
        self.d.stop()
        self.store = VanStore(self.d.state, OPEN_RECORD, keys.van_pub, seal, self.tmp)

    def seed(self, n, photo_len):
        return self.store.seed(self.d.conf, n, photo_len)

    def round(self, n, photo_len):
        """Records in while the van is stopped, the van up, then head office
        up and the van told to sync; returns when head office started."""
        if self.d.proc:
            self.d.stop()
        self.seed(n, photo_len)
        self.d.start()
        self.hq.start()
        t0 = time.monotonic()
        e = dict(os.environ, RETAS_SOCKET=self.d.sock)
        self.sync = subprocess.Popen([RETAS, "sync", "--now", "--json"], env=e,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return t0

    def last_chunk_next(self, line):
        if "/tus/" not in line:
            return False
        return self.hq.query("SELECT count(*) FROM uploads WHERE state = 'open' AND "
                             "upload_offset < length AND length - upload_offset <= 65536"
                             )[0][0] > 0

    def uploads(self):
        return {i: (off, length, state) for i, off, length, state in
                self.hq.query("SELECT id, upload_offset, length, state FROM uploads")}

    def after_kill(self, k, before):
        """The crash state, before any restart: whole batches only."""
        try:
            res = integrity(self.hq.db)
            self.assertEqual(res, [("ok",)], f"integrity_check: {res}")
            self.hq.check_batches()
            no_parts = self.hq.query("SELECT id FROM records r WHERE NOT EXISTS "
                                     "(SELECT 1 FROM parts p WHERE p.record_id = r.id)")
            self.assertEqual(no_parts, [], "records stored without their parts")
        except AssertionError as e:
            raise AssertionError(f"after head-office kill {k}: {e}\n{self.hq.tail()}") from None
        now = self.uploads()
        if any(s == "open" and off == length for off, length, s in now.values()):
            return "complete_not_ingested"
        if any(s == "open" and 0 < off < length for off, length, s in now.values()):
            return "mid_upload"
        if any(s == "ingested" and before.get(i, (0, 0, ""))[2] != "ingested"
               for i, (_o, _l, s) in now.items()):
            return "after_ingest"
        return "before_upload"



class CrashHq(CrashHqBase):

    def test_crash_hq_batches_whole_or_absent(self):
        kills = kills_wanted(20)
        seed, rng = make_rng("crash-hq")
        self.setup_van()

        # One round without a kill: how long the kill window must be.
        t0 = self.round(40, 20000)
        self.sync.wait(60)
        q = drain(self.d.sock)
        window = (time.monotonic() - t0) * 1.2
        self.assertEqual(q["waiting"], 0, q)
        print(f"crash-hq: a round of 40 records takes {window / 1.2:.2f} s; "
              f"kills land within {window:.2f} s of head office's start", flush=True)
        self.hq.stop()

        phases = {}
        started = time.monotonic()
        for k in range(kills):
            before = self.uploads()
            n = rng.choice((5, 20, 40))
            t0 = self.round(n, rng.choice((2000, 20000, 100000)))
            if rng.random() < 0.5:
                # Aimed at the end: once the van's next PATCH is its last,
                # the kill lands in that chunk's write, the ingest or the
                # reply.
                self.hq.wait_line(self.last_chunk_next, timeout=10)
                t0, span = time.monotonic(), 0.1
            else:
                span = window
            left = t0 + rng.uniform(0, span) - time.monotonic()
            if left > 0:
                time.sleep(left)  # the kill point
            self.hq.kill()
            where = self.after_kill(k, before)
            phases[where] = phases.get(where, 0) + 1
            # Only the watcher goes: retasd itself keeps retrying.
            self.sync.terminate()
            self.sync.wait(60)
        print(f"crash-hq: {kills} kills in {time.monotonic() - started:.1f} s ({phases})",
              flush=True)

        self.hq.start()
        recovered = self.hq.query("SELECT count(*) FROM uploads WHERE state = 'open' AND "
                                  "upload_offset = length")[0][0]
        self.assertEqual(recovered, 0, "head office did not ingest a complete upload on start")
        q = drain(self.d.sock)
        n = self.store.check()
        audit_ok(self.d.sock)
        self.assertEqual(q["acknowledged"], n, q)
        p = cli(self.d.sock, "queue", "--json")
        self.assertEqual(last_json(p.stdout)["quarantined"], 0, p.stdout)
        van_hashes = self.store.sealed_hashes()
        self.assertEqual(len(van_hashes), n)
        lost, dups = compare_with_hq(self.hq, van_hashes)
        lost += sum(1 for r in self.store.acked if r not in van_hashes)
        batches = self.hq.check_batches()
        self.d.stop()
        self.hq.stop()
        res = integrity(self.hq.db)
        self.assertEqual(res, [("ok",)])
        write_figures("crash-hq", {"kills": kills, "records": n, "records_lost": lost,
                                   "duplicates": dups, "seed": seed, "batches": batches,
                                   **{f"kills_{k}": v for k, v in sorted(phases.items())}})
        self.assertEqual((lost, dups), (0, 0))


class CrashHqUploadState(CrashHqBase):
    """The tus upload's state moves with its batch: head office never holds
    a stored batch behind an upload still marked open, which a restart
    would ingest a second time. Shown with the upload's state change made
    to fail (a trigger in head office's store), which is where a crash
    right after the batch's commit used to leave it."""

    FAULT = ("CREATE TRIGGER crash_test_fault BEFORE UPDATE OF state ON uploads "
             "WHEN NEW.state = 'ingested' BEGIN SELECT RAISE(ABORT, 'injected fault'); END")

    def consistent(self):
        batches = self.hq.query("SELECT count(*) FROM batches")[0][0]
        ingested = self.hq.query("SELECT count(*) FROM uploads WHERE state = 'ingested'")[0][0]
        receipts = self.hq.query("SELECT count(*) FROM receipts")[0][0]
        self.assertEqual((batches, receipts), (ingested, ingested),
                         "batches, receipts and ingested uploads disagree")
        return batches

    def test_crash_hq_upload_state_commits_with_its_batch(self):
        self.setup_van()
        self.seed(5, 20000)
        db = sqlite3.connect(self.hq.db)
        db.execute(self.FAULT)
        db.commit()
        db.close()
        self.hq.start()
        self.d.start()
        e = dict(os.environ, RETAS_SOCKET=self.d.sock)
        self.sync = subprocess.Popen([RETAS, "sync", "--now", "--json"], env=e,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        line = self.hq.wait_line(lambda x: "tus: upload" in x and
                                 ("ingest failed" in x or "ingested but" in x))
        self.assertIsNotNone(line, self.hq.tail())
        self.assertEqual(self.consistent(), 0)
        q = last_json(cli(self.d.sock, "queue", "--json").stdout)
        self.assertEqual((q["acknowledged"], q["uploading"]), (0, 5), q)

        # The fault goes; the van's next try asks head office to ingest
        # the complete upload again, and it is stored once.
        db = sqlite3.connect(self.hq.db)
        db.execute("DROP TRIGGER crash_test_fault")
        db.commit()
        db.close()
        q = drain(self.d.sock)
        self.assertEqual(q["acknowledged"], 5, q)
        self.assertEqual(self.consistent(), 1)
        lost, dups = compare_with_hq(self.hq, self.store.sealed_hashes())
        self.assertEqual((lost, dups), (0, 0))
        self.d.stop()
        self.hq.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
