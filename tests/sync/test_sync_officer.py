"""retasd's sync as the officer lives it, against a real `retas-hq serve`.

Built on test_sync_retasd.py's fixture (head office initialised, the van
registered, a letter loaded, records seeded through the daemon's store
code). These tests cover what the officer sees and feels: the backoff
while head office cannot be reached (no busy loop), records head office
quarantined, head office restarted in the middle of an upload, TLS with a
CA and a pinned key, the last outcome after a settled batch, and the
daemon answering promptly while a batch is stuck on a slow link.

Waits are on readiness lines, faultproxy's event lines and the CLI's own
replies. The one deliberate sleep is the offline test's observation
window: counting wakeups over a span of time is what it measures.
"""
import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sync_retasd import (N_RECORDS, VAN, Proxy, SyncTest,  # noqa: E402
                              json_objects)
from harness import (MKLETTER, NIP, PIN, RETAS, WAIT, main, rfc3339,  # noqa: E402
                     run_ok)
from students import CLASS, csv_of  # noqa: E402


def ceilings(base, cap, n):
    """The backoff ceilings of failures 1..n: min(cap, base * 2^(k-1))."""
    out, c = [], base
    for _ in range(n):
        out.append(min(c, cap))
        c = min(c * 2, cap)
    return out


class SyncOfflineTest(SyncTest):
    """Head office's address refuses every connection."""

    BASE, CAP = 200, 800
    backoff = f"backoff_base = {BASE}\nbackoff_cap = {CAP}\n"
    WINDOW = 4.0

    def sync_url(self):
        # A bound socket that never listens: connecting is refused at once,
        # and no other process can take the port meanwhile.
        self.dead = socket.socket()
        self.dead.bind(("127.0.0.1", 0))
        self.addCleanup(self.dead.close)
        return f"http://127.0.0.1:{self.dead.getsockname()[1]}/"

    def setUp(self):
        super().setUp()
        self.sync_conf = self.sync_conf.replace("auto = 0\n", "auto = 1\n")
        self.write_conf(self.hq.sign_pub)

    def logged_delays(self):
        return [int(m) for m in re.findall(
            r"sync: head office unreachable; next attempt in (\d+) ms", self.d.read_log())]

    def test_sync_offline_wakeups_stay_within_the_backoff(self):
        t0 = time.monotonic()
        self.d.start()
        t_ready = time.monotonic()
        # The observation window: nothing to wait for but time itself.
        time.sleep(self.WINDOW)
        t_ask = time.monotonic()
        # The engine goes on while the test reads: the delays logged before
        # the queue is asked can be no more than its probes, those logged
        # after no fewer than its wakeups less one.
        delays_before = self.logged_delays()
        q = self.queue()
        t1 = time.monotonic()
        self.assertEqual(q["last_outcome"], "unreachable", q)
        self.assertIn(q["phase"], ("waiting", "probing"), q)
        self.assertEqual(q["waiting"], N_RECORDS, q)

        # The engine waits, after the k-th failure in a row, a delay in
        # [c_k / 2, c_k] with c_k = min(cap, base * 2^(k-1)) (jitter over
        # the upper half of the ceiling, so nothing comes faster than
        # half the schedule). The first wakeup comes at start.
        c = ceilings(self.BASE, self.CAP, 1000)
        most, spent = 1, 0.0
        while spent + c[most - 1] / 2000 <= t1 - t0:
            spent += c[most - 1] / 2000
            most += 1
        # Fewest: every delay at its ceiling, plus a generous allowance
        # per attempt for the refused probe on a loaded machine.
        least, spent = 1, 0.0
        while spent + c[least - 1] / 1000 + 0.25 <= t_ask - t_ready:
            spent += c[least - 1] / 1000 + 0.25
            least += 1
        self.assertGreaterEqual(least, 4)
        self.assertTrue(least <= q["wakeups"] <= most, (least, q, most))
        # Every timer wakeup probes; a network change may add a probe
        # (it also counts as a failure, so the schedule below holds).
        self.assertGreaterEqual(q["probes"], q["wakeups"], q)

        # Each delay the engine chose is within its step of the schedule:
        # no wakeup came sooner than the backoff allows.
        delays = self.logged_delays()
        self.assertGreaterEqual(len(delays), q["wakeups"] - 1, self.d.read_log())
        for k, delay in enumerate(delays):
            self.assertTrue(c[k] // 2 <= delay <= c[k], (k + 1, delay, c[k], delays))
        self.assertLessEqual(len(delays_before), q["probes"], delays_before)
        # Nothing reached head office, nothing was staged on its behalf.
        self.assertEqual(self.hq.query("SELECT count(*) FROM uploads"), [(0,)])


class SyncLastOutcomeTest(SyncTest):

    def test_sync_last_outcome_stays_acknowledged_after_the_follow_up_probe(self):
        self.d.start()
        res = self.cli_json("sync", "--now")
        self.assertEqual(res["outcome"], "acknowledged", res)
        # A later run reaches head office and finds nothing to send: the
        # officer still reads that everything went through.
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "nothing")
        q = self.assertQueue(waiting=0, acknowledged=N_RECORDS, last_outcome="acknowledged")
        self.assertGreaterEqual(q["probes"], 2, q)
        p = self.d.cli("queue")
        self.assertCli(p, 0)
        self.assertRegex(p.stdout, r"Last contact with head office: .*\(acknowledged\)\n")
        # It survives a restart of the daemon.
        self.d.stop()
        self.d.start()
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "nothing")
        self.assertQueue(last_outcome="acknowledged")

    def test_sync_last_outcome_unreachable_replaces_acknowledged(self):
        # Once head office stops answering, the officer reads that instead.
        self.d.start()
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "acknowledged")
        self.hq.stop()
        self.cli_json("sync", "--now", rc=1)
        self.assertQueue(last_outcome="unreachable")


class SyncQuarantineTest(SyncTest):
    """Two of the records were sealed under a letter whose seal key head
    office does not hold: head office cannot open them (record.seal)."""

    def test_sync_quarantined_records_stay_visible_with_the_reason(self):
        self.d.start()
        self.assertCli(self.d.cli("session", "close"), 0)
        letter = os.path.join(self.tmp, "letter-unknown-seal.jws")
        keys = os.path.join(self.hq.dir, "keys")
        run_ok([MKLETTER, "--sign-key", os.path.join(keys, "sign.key"),
                "--seal-keypair", os.path.join(self.tmp, "not-hq-seal.key"),
                "--device-key", self.keys.van_pub, "--van-id", VAN,
                "--from", rfc3339(-3600), "--until", rfc3339(8 * 3600),
                "--nomor", "800/042/DUKCAPIL/2026", "--petugas", f"{NIP}:Rina Marlina:{PIN}",
                "-o", letter])
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        self.d.stop()
        bad = self.seed(2)
        self.d.start()

        # One batch per letter: the second goes right after the first,
        # started by the engine or by the next --now.
        total = {"acknowledged": 0, "quarantined": 0}
        for _ in range(3):
            res = self.cli_json("sync", "--now")
            if res["outcome"] == "nothing":
                break
            self.assertEqual(res["outcome"], "acknowledged", res)
            for k in total:
                total[k] += res[k]
        self.assertEqual(res["outcome"], "nothing", res)
        self.assertLessEqual(total["acknowledged"], N_RECORDS)
        self.assertLessEqual(total["quarantined"], 2)
        self.assertEqual(self.hq.records(), self.seeded)
        self.assertEqual(sorted(self.hq.query("SELECT reason FROM quarantine")),
                         [("record.seal",), ("record.seal",)])
        q = self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS, quarantined=2)
        self.assertEqual({e["id"]: e["reason"] for e in q["quarantine"]},
                         {rid: "record.seal" for rid in bad}, q)
        n_batches = self.hq.query("SELECT count(*) FROM batches")
        self.assertEqual(n_batches, [(2,)])
        batch = self.hq.query("SELECT DISTINCT batch_id FROM quarantine")
        self.assertEqual(len(batch), 1, batch)
        batch = batch[0][0]
        for e in q["quarantine"]:
            self.assertEqual(e["batch_id"], batch, q)
            self.assertIn("settled", e)
        self.assertEqual([e["seq"] for e in q["quarantine"]],
                         [N_RECORDS + 1, N_RECORDS + 2], q)

        # The officer's view names each record and head office's reason.
        p = self.d.cli("queue")
        self.assertCli(p, 0)
        self.assertIn("Quarantined by head office: 2\n", p.stdout)
        for rid in bad:
            self.assertRegex(p.stdout, rf"#\d+ {rid}: head office cannot open the record.*"
                             r"\(record\.seal\)")

        # Not sent again, not purged: the next runs have nothing to send,
        # and after a restart they are still listed.
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "nothing")
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), n_batches)
        self.d.stop()
        self.d.start()
        self.assertEqual(self.cli_json("sync", "--now")["outcome"], "nothing")
        q2 = self.assertQueue(waiting=0, acknowledged=N_RECORDS, quarantined=2)
        self.assertEqual(q2["quarantine"], q["quarantine"])
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), n_batches)
        self.assertEqual(self.hq.query("SELECT count(*) FROM quarantine"), [(2,)])


class ProxiedSyncTest(SyncTest):
    """Head office behind faultproxy, whose first connections stall once
    200 KB went up; several 64 KiB chunks, so the upload is caught in the
    middle."""

    backoff = "backoff_base = 200\nbackoff_cap = 1000\nchunk_size = 64\n"
    photo_len = 100000
    stall = "200000:200000"

    def sync_url(self):
        port = int(self.hq.url.rsplit(":", 1)[1].strip("/"))
        self.proxy = Proxy(port, "--stall", self.stall, "--count", "1")
        self.addCleanup(self.proxy.close)
        return f"http://127.0.0.1:{self.proxy.port}/"

    def start_sync(self):
        e = dict(os.environ, RETAS_SOCKET=self.d.sock)
        run = subprocess.Popen([RETAS, "sync", "--now", "--json"], env=e, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: run.poll() is None and (run.kill(), run.wait()))
        return run

    def finish_sync(self, run):
        out, err = run.communicate(timeout=WAIT)
        self.assertEqual(run.returncode, 0, out + err)
        objs = [o.get("parameters", o) for o in json_objects(out)]
        return objs


class SyncHqRestartTest(ProxiedSyncTest):
    # Stalled past five chunks, for three seconds: head office is killed
    # during the stall, and the van's connection fails once it ends.
    stall = "350000:3000"

    def proxy_up_bytes(self):
        self.proxy.proc.stdin.write("stats\n")
        line = self.proxy.wait_line("stats ")
        return int(re.search(r" up=(\d+)", line).group(1))

    def test_sync_hq_killed_mid_upload_resumes_from_its_offset_once(self):
        self.d.start()
        run = self.start_sync()
        conn = self.proxy.wait_line(" stall ").split()[1]
        # The upload is in flight and part of it is committed at head
        # office; then head office dies without a word.
        self.assertEqual(self.queue()["phase"], "uploading")
        self.hq.proc.kill()
        self.hq.proc.wait(WAIT)
        self.hq.proc.stdout.close()
        self.hq.proc = None
        (offset, length, state), = self.hq.query(
            "SELECT upload_offset, length, state FROM uploads")
        self.assertEqual(state, "open")
        self.assertTrue(0 < offset < length, (offset, length))
        self.assertEqual(self.hq.records(), {})
        # Once the stall is over the stalled connection finds its server
        # gone; what the proxy pushed into the dead socket meanwhile
        # counts before the restart.
        self.proxy.wait_line(f"conn {conn} ")
        up_before = self.proxy_up_bytes()

        # Head office comes back on another port; the proxy follows it and
        # lets the stalled connection go (it fails: its server is gone).
        self.hq.start()
        port = int(self.hq.url.rsplit(":", 1)[1].strip("/"))
        self.proxy.command(f"target {port}")
        objs = self.finish_sync(run)
        self.assertEqual((objs[-1]["outcome"], objs[-1]["acknowledged"]),
                         ("acknowledged", N_RECORDS), objs[-1])

        # One upload, carried on from head office's offset: what went up
        # after the restart is the rest of the batch and the requests'
        # headers; never the batch from zero.
        self.assertEqual(self.hq.query("SELECT count(*), min(state) FROM uploads"),
                         [(1, "ingested")])
        self.assertEqual(self.hq.query("SELECT count(*) FROM batches"), [(1,)])
        self.assertEqual(self.hq.records(), self.seeded)
        resent = self.proxy_up_bytes() - up_before
        self.assertGreaterEqual(resent, length - offset)
        self.assertLess(resent, length - offset + 16 * 1024, (resent, offset, length))
        self.assertQueue(waiting=0, uploading=0, acknowledged=N_RECORDS,
                         last_outcome="acknowledged")


class SyncEnrolmentNotBlockedTest(ProxiedSyncTest):
    """While a batch sits in a stalled upload, the daemon answers."""

    DEADLINE = 1.0
    # Long enough for every call below, short of curl's low-speed limit.
    stall = "200000:8000"

    def timed(self, fn):
        t = time.monotonic()
        res = fn()
        took = time.monotonic() - t
        self.assertLess(took, self.DEADLINE, (fn, took))
        return res

    def test_sync_upload_in_flight_never_blocks_the_daemon(self):
        self.d.start()
        self.assertCli(self.login(), 0)
        run = self.start_sync()
        self.proxy.wait_line(" stall ")
        (offset, length), = self.hq.query("SELECT upload_offset, length FROM uploads")
        self.assertTrue(0 < offset < length, (offset, length))
        self.assertEqual(self.queue()["phase"], "uploading")

        p = self.timed(lambda: self.d.cli("status"))
        self.assertCli(p, 0)
        p = self.timed(lambda: self.d.cli("--json", "status"))
        self.assertCli(p, 0)
        self.assertEqual(json_objects(p.stdout)[-1]["parameters"]["sync"]["phase"], "uploading")
        # Writes to the store while the engine holds the batch.
        with self.d.connect() as c:
            reply = self.timed(lambda: c.call("ImportStudents", {"csv": csv_of(CLASS)}))
        self.assertNotIn("error", reply, reply)
        p = self.timed(lambda: self.d.cli("students", "absent", CLASS[1].nik))
        self.assertCli(p, 0)
        q = self.timed(self.queue)
        self.assertEqual((q["phase"], q["uploading"]), ("uploading", N_RECORDS), q)
        # Still stuck at the same place: the calls ran during the upload.
        self.assertEqual(self.hq.query("SELECT upload_offset FROM uploads"), [(offset,)])

        # Once the stall ends the batch completes as usual.
        objs = self.finish_sync(run)
        self.assertEqual((objs[-1]["outcome"], objs[-1]["acknowledged"]),
                         ("acknowledged", N_RECORDS), objs[-1])
        self.assertEqual(self.hq.records(), self.seeded)


def openssl(*args):
    return run_ok(["openssl", *args])


class TlsPki:
    """A test CA and head office's certificate for 127.0.0.1 signed by
    it, another CA that signed nothing of head office's, and the pin of
    head office's public key (sha256// of its SubjectPublicKeyInfo)."""

    def __init__(self, d):
        def p(name):
            return os.path.join(d, name)
        for ca in ("ca", "other-ca"):
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", p(ca + ".key"), "-out", p(ca + ".pem"), "-days", "2",
                    "-subj", f"/CN=RETAS test {ca}")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", p("hq.key"), "-out", p("hq.csr"), "-subj", "/CN=127.0.0.1")
        with open(p("ext"), "w") as f:
            f.write("subjectAltName = IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", p("hq.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                "-CAcreateserial", "-out", p("hq.pem"), "-days", "2", "-extfile", p("ext"))
        spki = subprocess.run(["openssl", "pkey", "-in", p("hq.key"), "-pubout", "-outform",
                               "DER"], capture_output=True, check=True, timeout=WAIT).stdout
        self.pin = "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()
        self.wrong_pin = "sha256//" + base64.b64encode(hashlib.sha256(b"x").digest()).decode()
        self.ca, self.other_ca = p("ca.pem"), p("other-ca.pem")
        self.cert, self.key = p("hq.pem"), p("hq.key")


class SyncTlsTest(SyncTest):
    """Head office serves TLS with a certificate from a CA made here."""

    base_backoff = "backoff_base = 200\nbackoff_cap = 1000\n"

    def sync_url(self):
        self.pki = TlsPki(self.tmp)
        self.hq.stop()
        conf = os.path.join(self.hq.dir, "retas-hq.conf")
        with open(conf) as f:
            text = f.read()
        self.assertIn("tls_cert =\n", text)
        with open(conf, "w") as f:
            f.write(text.replace("tls_cert =\n", f"tls_cert = {self.pki.cert}\n")
                    .replace("tls_key =\n", f"tls_key = {self.pki.key}\n"))
        self.hq.start()
        self.hq.url = self.hq.url.replace("http://", "https://")
        self.backoff = self.base_backoff + self.tls_conf()
        return self.hq.url

    def tls_conf(self):
        return f"ca_file = {self.pki.ca}\n"

    def assertRefused(self, reason):
        self.d.start()
        res = self.cli_json("sync", "--now", rc=1)
        self.assertEqual(res["outcome"], reason, res)
        self.assertQueue(waiting=N_RECORDS, uploading=0, acknowledged=0, last_outcome=reason)
        p = self.d.cli("queue")
        self.assertCli(p, 0)
        self.assertRegex(p.stdout, rf"Last contact with head office: .*\({re.escape(reason)}\)\n")
        self.assertEqual(self.hq.query("SELECT count(*) FROM uploads"), [(0,)])
        self.assertEqual(self.hq.records(), {})
        self.assertIn("refused by TLS: " + reason, self.d.read_log())
        return p.stdout

    def assertUploads(self):
        self.d.start()
        res = self.cli_json("sync", "--now")
        self.assertEqual((res["outcome"], res["acknowledged"]), ("acknowledged", N_RECORDS), res)
        self.assertEqual(self.hq.records(), self.seeded)
        self.assertQueue(waiting=0, acknowledged=N_RECORDS, last_outcome="acknowledged")


class SyncTlsRightCaTest(SyncTlsTest):

    def test_sync_tls_with_the_right_ca_uploads(self):
        self.assertTrue(self.hq.url.startswith("https://127.0.0.1:"), self.hq.url)
        self.assertUploads()


class SyncTlsWrongCaTest(SyncTlsTest):

    def tls_conf(self):
        return f"ca_file = {self.pki.other_ca}\n"

    def test_sync_tls_with_another_ca_is_refused_with_the_reason(self):
        out = self.assertRefused("tls.certificate")
        self.assertIn("certificate", out.split("Last contact", 1)[1])


class SyncTlsWrongPinTest(SyncTlsTest):

    def tls_conf(self):
        return f"ca_file = {self.pki.ca}\npinned_key = {self.pki.wrong_pin}\n"

    def test_sync_tls_with_another_pinned_key_is_refused(self):
        out = self.assertRefused("tls.pinned-key")
        self.assertIn("sync.pinned_key", out)


class SyncTlsRightPinTest(SyncTlsTest):

    def tls_conf(self):
        return f"ca_file = {self.pki.ca}\npinned_key = {self.pki.pin}\n"

    def test_sync_tls_with_the_right_pinned_key_uploads(self):
        self.assertUploads()


if __name__ == "__main__":
    main()
