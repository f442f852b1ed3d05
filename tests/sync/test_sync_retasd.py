"""retasd's sync end to end against a real `retas-hq serve` on loopback.

Each test makes a head-office directory with `retas-hq init`, registers the
van's device key there, loads a letter signed with head office's own keys
into retasd, opens a session, stops retasd and seeds sealed records with
retas-seed-records (the daemon's store code and the core library's seal),
then starts retasd again with [sync] pointing at the server. What head
office holds is read from its store (hq.db, read-only); what the van
believes from `retas queue --json`. Waits are on readiness lines and on the
CLI's own replies, never on sleeps.

Environment (tests/daemon/meson.build): the harness's variables, RETAS_HQ,
RETAS_SEED_RECORDS.
"""
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from harness import (NIP, PIN, RETAS, WAIT, DaemonTest, MKLETTER,  # noqa: E402
                     main, rfc3339, run_ok)

HQ = os.environ["RETAS_HQ"]
FAULTPROXY = os.environ["FAULTPROXY"]
SEED = os.environ["RETAS_SEED_RECORDS"]
VAN = "MPK-01"
N_RECORDS = 5


def json_objects(text):
    """Every JSON value in text (progress lines, then the reply)."""
    dec, out, i = json.JSONDecoder(), [], 0
    text = text.strip()
    while i < len(text):
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
        while i < len(text) and text[i].isspace():
            i += 1
    if not out:
        raise AssertionError("no JSON on stdout")
    return out


class HqServer:
    """One head-office directory and its server."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "hq")
        out = run_ok([HQ, "--json", "init", self.dir])
        keys = json.loads(out)
        self.sign_pub = keys["sign_key"]
        self.proc = None
        self.url = None

    def run(self, *args):
        return subprocess.run([HQ, "--dir", self.dir, *args], capture_output=True, text=True,
                              timeout=WAIT)

    def start(self):
        self.proc = subprocess.Popen([HQ, "--dir", self.dir, "serve", "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("retas-hq serve did not say it listens")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError(f"retas-hq serve exited: {self.proc.wait()}")
                buf += chunk
        line = buf.split(b"\n")[0].decode()
        hostport = line.split("listening on ")[1].split()[0]
        self.url = f"http://{hostport}/"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(WAIT)
            self.proc.stdout.close()
            self.proc = None
            if rc != 0:
                raise AssertionError(f"retas-hq serve exited with {rc}")

    def query(self, sql, *args):
        db = sqlite3.connect(f"file:{os.path.join(self.dir, 'hq.db')}?mode=ro", uri=True)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def records(self):
        """{id: sha256 hex} of what head office stored from our van."""
        return {i: h.hex() for i, h in
                self.query("SELECT id, sha256 FROM records WHERE van_id = ?", VAN)}


class SyncTest(DaemonTest):
    """A van with N_RECORDS sealed records and head office ready for them."""

    backoff = "backoff_base = 200\nbackoff_cap = 1000\n"
    photo_len = 4096

    def setUp(self):
        super().setUp()
        self.hq = HqServer(self.tmp)
        self.hq.start()
        self.sync_conf = (f"[sync]\nurl = {self.sync_url()}\nallow_http = 1\nauto = 0\n"
                          + self.backoff)
        self.write_conf(self.hq.sign_pub)
        p = self.hq.run("van", "register", self.keys.van_pub, "--id", VAN)
        self.assertEqual(p.returncode, 0, p.stderr)
        letter = os.path.join(self.tmp, "letter.jws")
        keys = os.path.join(self.hq.dir, "keys")
        run_ok([MKLETTER, "--sign-key", os.path.join(keys, "sign.key"),
                "--seal-keypair", os.path.join(keys, "seal.key"),
                "--device-key", self.keys.van_pub, "--van-id", VAN,
                "--from", rfc3339(-3600), "--until", rfc3339(8 * 3600),
                "--nomor", "800/041/DUKCAPIL/2026", "--petugas", f"{NIP}:Rina Marlina:{PIN}",
                "-o", letter])
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        self.d.stop()
        self.seeded = self.seed(N_RECORDS)

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.hq.stop()

    def sync_url(self):
        return self.hq.url

    def write_conf(self, sign_pub):
        with open(self.d.conf, "w") as f:
            f.write(f"# written by the test\n[hq]\nsign_key = {sign_pub}\n{self.sync_conf}")

    def seed(self, n):
        out = run_ok([SEED, "--config", self.d.conf, "--state-dir", self.d.state, "-n", str(n),
                      "--photo-len", str(self.photo_len)])
        rows = [line.split() for line in out.splitlines()]
        self.assertEqual(len(rows), n)
        return {rid: h for rid, _seq, h in rows}

    def cli_json(self, *args, rc=0):
        p = self.d.cli(*args, "--json")
        self.assertCli(p, rc)
        return json_objects(p.stdout)[-1].get("parameters", {})

    def queue(self):
        return self.cli_json("queue")

    def assertQueue(self, **want):
        q = self.queue()
        self.assertEqual({k: q[k] for k in want}, want, q)
        return q


class SyncUploadTest(SyncTest):

    def test_sync_upload_every_record_once_and_acknowledged(self):
        self.d.start()
        self.assertQueue(waiting=N_RECORDS, uploading=0, acknowledged=0)
        res = self.cli_json("sync", "--now")
        self.assertEqual(res["outcome"], "acknowledged", res)
        self.assertEqual(res["acknowledged"], N_RECORDS, res)
        self.assertEqual(res["quarantined"], 0, res)
        self.assertEqual(self.hq.records(), self.seeded)
        self.assertEqual(self.hq.query("SELECT count(*) FROM quarantine"), [(0,)])
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(1,)])
        q = self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS, quarantined=0,
                             bytes_waiting=0, batch_bytes=0)
        # After a settled batch the engine looks again at once for more;
        # finding nothing keeps the outcome the officer cares about.
        self.assertEqual(q["last_outcome"], "acknowledged", q)

    def test_sync_second_run_sends_nothing(self):
        self.d.start()
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "acknowledged")
        res = self.cli_json("sync", "--now")
        self.assertEqual(res["outcome"], "nothing", res)
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(1,)])
        self.assertEqual(self.hq.records(), self.seeded)
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS)

    def test_sync_records_seeded_later_go_in_a_new_batch(self):
        self.d.start()
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "acknowledged")
        self.d.stop()
        more = self.seed(3)
        self.d.start()
        self.assertQueue(waiting=3, acknowledged=N_RECORDS)
        res = self.cli_json("sync", "--now")
        self.assertEqual((res["outcome"], res["acknowledged"]), ("acknowledged", 3), res)
        self.assertEqual(self.hq.records(), {**self.seeded, **more})
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(2,)])
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS + 3)


class SyncForgedReceiptTest(SyncTest):
    # A refused receipt waits the longest backoff; keep it beyond the test
    # so the queue still shows the refusal.
    backoff = "backoff_base = 300000\nbackoff_cap = 300000\n"

    def test_sync_receipt_signed_by_another_key_is_refused(self):
        other = run_ok([MKLETTER, "--sign-key", os.path.join(self.tmp, "other.key")]).strip()
        self.write_conf(other)
        self.d.start()
        res = self.cli_json("sync", "--now", rc=1)
        self.assertTrue(res["outcome"].startswith(("jws.", "receipt.")), res)
        # Head office stored them; the van must not believe it without a
        # receipt it can verify.
        self.assertEqual(self.hq.records(), self.seeded)
        q = self.assertQueue(acknowledged=0, quarantined=0)
        self.assertEqual(q["waiting"] + q["uploading"], N_RECORDS, q)
        self.assertEqual(q["last_outcome"], res["outcome"], q)
        # With the right key the same batch settles, nothing sent twice.
        self.d.stop()
        self.write_conf(self.hq.sign_pub)
        self.d.start()
        res = self.cli_json("sync", "--now")
        self.assertEqual((res["outcome"], res["acknowledged"]), ("acknowledged", N_RECORDS), res)
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(1,)])
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS)


class SyncExportTest(SyncTest):

    def test_sync_export_import_receipt_round_trip(self):
        self.d.start()
        media = os.path.join(self.tmp, "media")
        os.mkdir(media)
        exp = self.cli_json("sync", "export", media)
        self.assertEqual(len(exp["batches"]), 1, exp)
        batch = exp["batches"][0]
        self.assertEqual(batch["records"], N_RECORDS, exp)
        self.assertTrue(os.path.isfile(batch["path"]), exp)
        self.assertQueue(acknowledged=0)
        p = self.hq.run("import", media)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.hq.records(), self.seeded)
        receipt = os.path.join(media, batch["batch_id"] + ".receipt.jws")
        res = self.cli_json("sync", "import-receipt", receipt)
        self.assertEqual(res["batch_id"], batch["batch_id"], res)
        self.assertEqual((res["acknowledged"], res["quarantined"], res["unmatched"]),
                         (N_RECORDS, 0, 0), res)
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS)
        # Applying it again changes nothing and uploading has nothing to do.
        res = self.cli_json("sync", "import-receipt", receipt)
        self.assertEqual((res["acknowledged"], res["quarantined"], res["unmatched"]),
                         (0, 0, 0), res)
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS)
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "nothing")
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(1,)])


class Proxy:
    """tests/tools/faultproxy in front of head office."""

    def __init__(self, port, *fault):
        self.proc = subprocess.Popen([FAULTPROXY, "--target", str(port), *fault,
                                      "--lifetime", "240"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.buf = ""
        self.port = int(self.wait_line("listening ").rsplit(":", 1)[1])

    def wait_line(self, word):
        # Lines are split here, not by the file object: select() cannot
        # see lines a buffered readline() already pulled in.
        deadline = time.monotonic() + WAIT
        while True:
            while "\n" in self.buf:
                line, self.buf = self.buf.split("\n", 1)
                if word in line:
                    return line.strip()
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise AssertionError(f"faultproxy did not say '{word}'")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"faultproxy ended before '{word}'")
            self.buf += chunk.decode()

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.wait_line("ok")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(WAIT)
        self.proc.stdout.close()


class SyncKillTest(SyncTest):
    # Several 64 KiB chunks, so the upload is caught in the middle.
    backoff = "backoff_base = 200\nbackoff_cap = 1000\nchunk_size = 64\n"
    photo_len = 100000

    def sync_url(self):
        # Head office keeps its default request timeout (60 s): the PATCH
        # the killed van left stuck mid-body must not hold the restarted
        # van's resumption for a minute (a new PATCH supersedes it).
        conf = os.path.join(self.hq.dir, "retas-hq.conf")
        with open(conf) as f:
            self.assertIn("request_timeout = 60\n", f.read())
        port = int(self.hq.url.rsplit(":", 1)[1].strip("/"))
        # Every connection stalls once 200 KB went up, far past the test.
        self.proxy = Proxy(port, "--stall", "200000:200000")
        self.addCleanup(self.proxy.close)
        return f"http://127.0.0.1:{self.proxy.port}/"

    def test_sync_killed_mid_upload_resumes_the_same_upload(self):
        self.d.start()
        e = dict(os.environ, RETAS_SOCKET=self.d.sock)
        run = subprocess.Popen([RETAS, "sync", "--now", "--json"], env=e, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.proxy.wait_line(" stall ")
            self.d.kill()
            out, _ = run.communicate(timeout=WAIT)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        batch = {o["batch_id"] for o in json_objects(out) if o.get("batch_id")}
        self.assertEqual(len(batch), 1, out)
        uploads = self.hq.query("SELECT upload_offset, length, state FROM uploads")
        self.assertEqual(len(uploads), 1, uploads)
        offset, length, state = uploads[0]
        self.assertEqual(state, "open", uploads)
        self.assertTrue(0 < offset < length, uploads)
        self.assertEqual(self.hq.records(), {})

        self.proxy.command("pass")
        self.d.start()
        # The restarted van holds the same batch and what head office
        # confirmed of it before the kill.
        q = self.assertQueue(waiting=0, uploading=N_RECORDS, acknowledged=0, batch_bytes=length)
        self.assertTrue(0 < q["batch_offset"] <= offset, (q, uploads))
        e = dict(os.environ, RETAS_SOCKET=self.d.sock)
        log_from = len(self.d.read_log())
        t = time.monotonic()
        p = subprocess.run([RETAS, "sync", "--now", "--json"], env=e, text=True,
                           capture_output=True, timeout=WAIT)
        took = time.monotonic() - t
        self.assertCli(p, 0)
        # Head office never answered "busy" and the van did not wait out
        # the stale PATCH's request timeout.
        self.assertNotIn("HTTP 423", self.d.read_log()[log_from:])
        self.assertLess(took, 30, self.d.read_log()[log_from:])
        objs = [o.get("parameters", o) for o in json_objects(p.stdout)]
        self.assertEqual({o["batch_id"] for o in objs if o.get("batch_id")}, batch, p.stdout)
        self.assertEqual((objs[-1]["outcome"], objs[-1]["acknowledged"]),
                         ("acknowledged", N_RECORDS), objs[-1])
        # The same tus upload carried on: head office made no second one.
        self.assertEqual(self.hq.query("SELECT count(*), min(state) FROM uploads"),
                         [(1, "ingested")])
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(1,)])
        self.assertEqual(self.hq.records(), self.seeded)
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS)


if __name__ == "__main__":
    main()
