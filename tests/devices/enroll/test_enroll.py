#!/usr/bin/env python3
"""Enrolment end to end on emulated devices.

retasd runs inside a umockdev testbed (umockdev-bed) holding the NB-1010-U
model, whose one usbmon capture covers every press of the run in the order
the daemon makes them, and the Wacom One pad, whose signature events the
test writes when the enrolment reaches the signature. The virtual PTP/IP
camera runs as its own process. The test then plays head office: it opens
the sealed record with the seal key pair, verifies the receipt token
(decoded from the receipt's QR code with zbarimg) and scans the state
directory for any NIK or biometric bytes in clear.

Exits 77 when umockdev cannot run a program here.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ["RD_HARNESS_DIR"])
from harness import IFACE, RETASD, WAIT, Client, Daemon, DaemonTest, main  # noqa: E402
from students import CLASS, Student, csv_of  # noqa: E402

BED = os.environ["UMOCKDEV_BED"]
OPEN_RECORD = os.environ["OPEN_RECORD"]
MODEL = os.environ["NB1010_MODEL"]
WACOM = os.environ["WACOM_FIXTURES"]
CAMERA = os.environ["PTPIP_CAMERA"]
FP_SYSFS = "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2"
PAD = "/dev/input/event5"
JARI = "1,2,6,7"


class BedDaemon(Daemon):
    """retasd as the child of umockdev-bed, whose stdin the test keeps."""

    def __init__(self, tmp, bed_args, env):
        super().__init__(tmp)
        self.bed_args = bed_args
        self.env = env
        self.bed_out = None

    def start(self, sets=None):
        from harness import Notify
        if sets is not None:
            self.sets = list(sets)
        npath = os.path.join(self.tmp, "notify.sock")
        if os.path.exists(npath):
            os.unlink(npath)
        self.notify = Notify(npath)
        env = dict(os.environ, NOTIFY_SOCKET=npath, **self.env)
        args = [BED, *self.bed_args, "--", RETASD, "--config", self.conf, "--state-dir",
                self.state, "--socket", self.sock]
        for s in self.sets:
            args += ["--set", s]
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = self.proc.stdout.readline()
        if not line.startswith("started"):
            raise AssertionError(f"umockdev-bed did not start retasd: {self.read_log()}")
        self.notify.wait_for("READY=1", self.proc)

    def events(self, path):
        self.proc.stdin.write(f"events {PAD} {path}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line.startswith("written ") and int(line.split()[1]) > 0, line

    def stop(self, sig=None):
        self.proc.stdin.close()
        import signal
        super().stop(signal.SIGTERM)


class Enrol(DaemonTest):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="retasd-enrol-")
        self.fix = os.path.join(self.tmp, "fix")
        os.mkdir(self.fix)
        self.camera = None

    def tearDown(self):
        if self.camera:
            self.camera.terminate()
            self.camera.wait()
        super().tearDown()

    def start_camera(self):
        self.camera = subprocess.Popen([CAMERA, "--port", "0", "--synth", "1200x1600"],
                                       stdout=subprocess.PIPE, text=True)
        line = self.camera.stdout.readline()
        if not line.startswith("ready port="):
            self.fail(f"camera did not start: {line!r}")
        return int(line.strip().split("=")[1])

    def start(self, spec, sets=()):
        subprocess.run([MODEL, self.fix, "--sequence", "run", spec], check=True)
        iolibs = os.path.join(self.tmp, "iolibs")
        os.mkdir(iolibs)
        os.symlink(os.path.join(os.environ["RETAS_GPHOTO2_IOLIBDIR"], "ptpip.so"),
                   os.path.join(iolibs, "ptpip.so"))
        port = self.start_camera()
        bed = ["--device", os.path.join(self.fix, "nb1010.umockdev"),
               "--device", os.path.join(WACOM, "one-stroke.umockdev"),
               "--pcap", f"{FP_SYSFS}={os.path.join(self.fix, 'run.pcap')}",
               "--ioctl", f"{PAD}={os.path.join(WACOM, 'one-stroke.ioctl')}"]
        old = os.environ.get("ASAN_OPTIONS", "")
        env = {"IOLIBS": iolibs, "HOME": self.tmp,
               "ASAN_OPTIONS": (old + ":" if old else "") + "verify_asan_link_order=0"}
        self.d = BedDaemon(self.tmp, bed, env)
        from harness import Keys
        self.keys = Keys(self.tmp, self.d)
        self.d.start(sets=[f"camera.port=ptpip:127.0.0.1:{port}:{port}",
                           "camera.model=PTP/IP Camera", *sets])
        letter = self.keys.letter("st.jws", extra=("--jari", JARI))
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("students", "import", "-", stdin=csv_of(CLASS)), 0)
        self.assertCli(self.d.cli("session", "open"), 0)

    def stream(self, c, method, params):
        """Calls with more: (progress list, final reply)."""
        c.send(method, params, more=True)
        progress = []
        while True:
            m = c.recv()
            if m.get("continues"):
                progress.append(m["parameters"])
                continue
            return progress, m

    def test_enroll_class(self):
        try:
            self.start("ggg" + "gllg" + "gggg" + "ggg" + "gggg" + "w", sets=["fingerprint.quality_threshold=10",
                                             "fingerprint.retries=1"])
        except subprocess.CalledProcessError:
            raise
        s = CLASS[0]
        with Client(self.d.sock) as c:
            r = c.call("EnrollBegin", {"nik": s.nik})
            self.assertNotIn("error", r, r)
            eid = r["parameters"]["id"]
            self.assertEqual([f["position"] for f in r["parameters"]["jari"]], [1, 2, 6, 7])
            self.assertEqual(r["parameters"]["jari"][1]["name"], "telunjuk kanan")
            for pos in (1, 6, 7):
                progress, r = self.stream(c, "CaptureFinger", {"id": eid, "position": pos})
                self.assertNotIn("error", r, f"{r}\n{self.d.read_log()}")
                self.assertTrue(r["parameters"]["accepted"], r)
                self.assertIn("place_finger", [p["stage"] for p in progress])
            r = c.call("MarkFingerException", {"id": eid, "position": 2, "reason": "bandaged",
                                               "confirmed": False})
            self.assertRefused(r, "enroll.exception-unconfirmed")
            r = c.call("MarkFingerException", {"id": eid, "position": 2, "reason": "bandaged",
                                               "confirmed": True})
            self.assertEqual(r["parameters"]["name"], "telunjuk kanan")
            self.assertRefused(c.call("EnrollCommit", {"id": eid}), "enroll.incomplete")
            progress, r = self.stream(c, "CapturePhoto", {"id": eid})
            self.assertNotIn("error", r, f"{r}\n{self.d.read_log()}")
            self.assertEqual((r["parameters"]["width"], r["parameters"]["height"]), (600, 800))
            c.send("CaptureSignature", {"id": eid}, more=True)
            m = c.recv()
            self.assertEqual(m["parameters"]["stage"], "sign_now", m)
            self.d.events(os.path.join(WACOM, "one-stroke.events"))
            while m.get("continues"):
                m = c.recv()
            self.assertNotIn("error", m, f"{m}\n{self.d.read_log()}")
            self.assertGreater(m["parameters"]["points"], 10)
            r = c.call("EnrollCommit", {"id": eid})
            self.assertNotIn("error", r, f"{r}\n{self.d.read_log()}")
            done = r["parameters"]
        self.assertEqual(done["seq"], 1)
        self.check_record(done, s)
        r = self.d.call("EnrollBegin", {"nik": s.nik})
        self.assertRefused(r, "enroll.duplicate")

        # The second student through `retas enroll`, as a script drives it:
        # the left index finger bandaged, the right index finger never good
        # enough (two presses below the threshold: unreadable), one photo
        # retake, the signature written when the command asks for it.
        out = self.enroll_cli(CLASS[1], "--yes", "--exception", "7:bandaged",
                              "--retake-photo", "1")
        self.assertIn("Place the ibu jari kanan on the reader.", out)
        self.assertIn("telunjuk kiri: exception recorded (bandaged).", out)
        self.assertIn("telunjuk kanan: exception recorded (unreadable).", out)
        self.assertEqual(out.count("Photo taken"), 2)
        self.assertIn("Recorded: record ", out)
        listed = self.d.cli("students", "list", "--json")
        self.assertCli(listed, 0)

        # The third, 16 years old: recorded, record-only, and the receipt says so.
        out = self.enroll_cli(CLASS[3], "--yes")
        self.assertIn("Under 17: record only", out)
        self.assertIn("Recorded: record ", out)
        pdf3 = out.strip().rsplit("Receipt: ", 1)[1]
        t = subprocess.run(["pdftotext", pdf3, "-"], capture_output=True, text=True)
        self.assertIn("REKAM SAJA", t.stdout)

        # The receipt printed again.
        pdf = os.path.join(self.tmp, "resi.pdf")
        self.assertCli(self.d.cli("receipt", CLASS[1].nik, "-o", pdf), 0)
        self.assertEqual(open(pdf, "rb").read()[:5], b"%PDF-")
        self.assertCli(self.d.cli("receipt", CLASS[2].nik), 1, err="no record")

        # A redo supersedes the first student's record, never deletes it.
        out = self.enroll_cli(CLASS[0], "--yes", "--redo", "--reason", "foto buram",
                              "--exception", "2:bandaged")
        self.assertIn("Recorded: record ", out)
        # A student added on the spot, checked against the NIK.
        self.spot = Student("Tamu Baru", "P", 17, 77)
        out = self.enroll_cli(self.spot, "--yes", "--nama", self.spot.nama, "--jk", "P",
                              "--lahir", self.spot.birth.isoformat(), "--kelas", "XII IPS 2")
        self.assertIn("Recorded: record ", out)
        db = sqlite3.connect(f"file:{os.path.join(self.d.state, 'retasd.db')}?mode=ro",
                             uri=True)
        rows = db.execute("SELECT id, seq, prev_hash, hash, superseded_by FROM record"
                          " ORDER BY seq").fetchall()
        db.close()
        self.assertEqual([r[1] for r in rows], [1, 2, 3, 4, 5])
        self.assertIsNone(rows[0][2])
        for prev, cur in zip(rows, rows[1:]):
            self.assertEqual(cur[2], prev[3])  # each record chains to the one before
        self.assertEqual(rows[0][4], rows[3][0])  # the first superseded by the redo
        self.assertEqual([r[4] for r in rows[1:]], [None] * 4)

        # Ctrl-C while the reader waits abandons the student; nothing stays.
        p = self.spawn_cli(CLASS[2].nik, "--yes")
        line = p.stdout.readline()
        while line and "Place the" not in line:
            line = p.stdout.readline()
        p.send_signal(2)
        rest = p.stdout.read()
        p.wait(WAIT)
        self.assertEqual(p.returncode, 1, f"{rest}\n{self.d.read_log()}")
        self.assertIn("nothing of this student was stored", rest, self.d.read_log())
        self.assertTrue(self.d.call("VerifyAudit")["parameters"]["ok"])
        db = sqlite3.connect(f"file:{os.path.join(self.d.state, 'retasd.db')}?mode=ro",
                             uri=True)
        rows = db.execute("SELECT detail FROM audit WHERE event = 'EnrollAbort'").fetchall()
        db.close()
        self.assertEqual([json.loads(r[0])["why"] for r in rows], ["interrupted"])

        self.check_report()

    def begin_within(self, c, s, seconds=5.0):
        """EnrollBegin on c answers, and begins, within seconds."""
        t0 = time.monotonic()
        r = c.call("EnrollBegin", {"nik": s.nik})
        took = time.monotonic() - t0
        self.assertNotIn("error", r, f"{r}\n{self.d.read_log()}")
        self.assertLess(took, seconds)
        return r["parameters"]["id"]

    def test_enroll_abandoned_when_client_gone(self):
        """An enrolment belongs to the connection that began it: closing
        that connection, or killing `retas enroll` outright, abandons it
        at once (audited as EnrollAbort, why "disconnected"), so the next
        EnrollBegin is not refused enroll.busy; nothing is stored."""
        self.start("ww")
        with Client(self.d.sock) as a:
            first = self.begin_within(a, CLASS[0])
        with Client(self.d.sock) as b:
            eid = self.begin_within(b, CLASS[0])
            self.assertNotEqual(eid, first)
            r = b.call("EnrollAbort", {"id": eid, "why": "test"})
            self.assertNotIn("error", r, r)

        # SIGKILL while the reader waits for a finger: no EnrollAbort comes,
        # a capture runs on its thread.
        p = self.spawn_cli(CLASS[1].nik, "--yes")
        line = p.stdout.readline()
        while line and "Place the" not in line:
            line = p.stdout.readline()
        self.assertIn("Place the", line, self.d.read_log())
        p.kill()
        p.wait(WAIT)
        p.stdout.close()
        with Client(self.d.sock) as c:
            eid = self.begin_within(c, CLASS[1])
            r = c.call("EnrollAbort", {"id": eid, "why": "end"})
            self.assertNotIn("error", r, r)

        self.assertTrue(self.d.call("VerifyAudit")["parameters"]["ok"])
        db = sqlite3.connect(f"file:{os.path.join(self.d.state, 'retasd.db')}?mode=ro",
                             uri=True)
        aborts = db.execute("SELECT outcome, pid, detail FROM audit WHERE event = 'EnrollAbort'"
                            " ORDER BY id").fetchall()
        records = db.execute("SELECT count(*) FROM record").fetchone()[0]
        db.close()
        self.assertEqual([(o, json.loads(d)["why"]) for o, _, d in aborts],
                         [("ok", "disconnected"), ("ok", "test"), ("ok", "disconnected"),
                          ("ok", "end")])
        self.assertEqual(json.loads(aborts[0][2])["enrolment"], first)
        self.assertEqual(aborts[2][1], p.pid)  # the killed command's EnrollBegin
        self.assertEqual(records, 0)
        self.assertEqual(self.d.read_log().count("the client that began it has gone"), 2)
        rows = json.loads(self.d.cli("--json", "students", "list").stdout)
        self.assertEqual({x["status"] for x in rows["parameters"]["students"]}, {"pending"})

    def check_report(self):
        """The draft report's numbers against what happened: five on the
        list, three recorded (one record-only; three exceptions, on two
        students), one absent, one pending (the one interrupted); written
        signed, as CSV and as PDF when the session closes."""
        self.assertCli(self.d.cli("students", "absent", CLASS[4].nik), 0)
        p = self.d.cli("report", "--format", "json")
        self.assertCli(p, 0)
        rep = json.loads(p.stdout)
        s = rep["ringkasan"]
        self.assertEqual(s["sasaran"]["total"], 5)
        self.assertEqual(s["direkam"]["total"], 4)
        self.assertEqual(s["direkam"]["tambahan"], 1)
        self.assertEqual((s["direkam"]["L"], s["direkam"]["P"]), (1, 3))
        self.assertEqual((s["direkam"]["rekam_saja"], s["direkam"]["layak_cetak"]), (1, 3))
        self.assertEqual(s["tidak_direkam"]["absent"], 1)
        self.assertEqual(s["belum"], 1)
        self.assertEqual(s["pengecualian"]["total"], 3)
        self.assertEqual(s["pengecualian"]["siswa"], 2)
        per = {x["jari"]: x for x in s["pengecualian"]["per_jari"]}
        self.assertEqual((per[2]["bandaged"], per[2]["unreadable"], per[7]["bandaged"]),
                         (1, 1, 1))
        kual = {x["jari"]: x for x in s["kualitas"]}
        self.assertEqual((kual[1]["n"], kual[2]["n"], kual[6]["n"], kual[7]["n"]), (4, 2, 4, 3))
        self.assertNotIn(CLASS[0].nik, p.stdout)
        # the failed finger capture of the Ctrl-C'd student is no incident:
        # it was cancelled, not a device failure
        csv = self.d.cli("report", "--format", "csv")
        self.assertCli(csv, 0)
        self.assertEqual(len(csv.stdout.strip().splitlines()), 7)

        self.assertCli(self.d.cli("session", "close"), 0)
        lap = os.path.join(self.d.state, "laporan")
        names = sorted(os.listdir(lap))
        self.assertEqual([n.rsplit(".", 1)[1] for n in names], ["csv", "jws", "pdf"])
        pdf = os.path.join(lap, names[2])
        t = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True)
        self.assertEqual(t.returncode, 0, t.stderr)
        self.assertIn("SMA Negeri 1 Kota Jambi", t.stdout)
        self.scan_state([x.nik for x in CLASS] + [self.spot.nik])

    def spawn_cli(self, *args):
        env = dict(os.environ, RETAS_SOCKET=self.d.sock)
        return subprocess.Popen([os.environ["RETAS_CLI"], "enroll", *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def enroll_cli(self, s, *args):
        p = self.spawn_cli(s.nik, *args)
        out = ""
        for line in p.stdout:
            out += line
            if "signs on the pad" in line:
                self.d.events(os.path.join(WACOM, "one-stroke.events"))
        p.wait(WAIT)
        self.assertEqual(p.returncode, 0, f"{out}\n{self.d.read_log()}")
        return out

    def check_record(self, done, s):
        parts = os.path.join(self.tmp, "parts")
        os.mkdir(parts)
        p = subprocess.run([OPEN_RECORD, "record", os.path.join(self.d.state, "retasd.db"),
                            done["record_id"], self.keys.van_pub, self.keys.seal_key, parts],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = json.loads(p.stdout)
        self.assertEqual(rec["seq"], 1)
        self.assertEqual(rec["prev_hash"], "0" * 64)
        self.assertEqual(sorted(x["name"] for x in rec["parts"]),
                         ["demografi.json", "foto.jpg", "jari-01.iso", "jari-06.iso",
                          "jari-07.iso", "tanda-tangan.png", "tanda-tangan.series"])
        demo = json.load(open(os.path.join(parts, "demografi.json")))
        self.assertEqual(demo, {"nik": s.nik, "nama": s.nama, "jenis_kelamin": s.gender,
                                "tanggal_lahir": s.birth.isoformat(), "kelas": s.kelas,
                                "npsn": demo["npsn"],
                                "pengecualian": [{"jari": 2, "alasan": "bandaged"}]})
        self.assertEqual(len(demo["npsn"]), 8)
        photo = open(os.path.join(parts, "foto.jpg"), "rb").read()
        self.assertEqual(photo[:2], b"\xff\xd8")
        iso = open(os.path.join(parts, "jari-01.iso"), "rb").read()
        self.assertEqual(iso[:4], b"FIR\0")

        # The receipt's QR code holds the token, which verifies and names
        # this record and its hash.
        png = done["receipt_png"]
        z = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True)
        self.assertEqual(z.returncode, 0, z.stderr)
        self.assertEqual(z.stdout.strip(), done["token"])
        t = subprocess.run([OPEN_RECORD, "token", done["token"], self.keys.van_pub],
                           capture_output=True, text=True)
        self.assertEqual(t.returncode, 0, t.stderr)
        tok = json.loads(t.stdout)
        self.assertEqual(tok["record_id"], done["record_id"])
        self.assertEqual(tok["hash"], rec["hash"])
        self.assertEqual(tok["npsn"], demo["npsn"])

        self.photo_window = photo[len(photo) // 2:len(photo) // 2 + 64]
        self.scan_state([s.nik])

    def scan_state(self, niks):
        """Nothing in the state directory (db, -wal, -shm, receipts, reports)
        holds a NIK or biometric bytes in clear."""
        needles = [n.encode() for n in niks] + [self.photo_window]
        for i in (1, 2, 3, 4, 7):  # good presses; 5 and 6 are near blank
            raw = open(os.path.join(self.fix, f"run-{i}.raw"), "rb").read()
            needles.append(raw[len(raw) // 2:len(raw) // 2 + 64])
        for root, _, files in os.walk(self.d.state):
            for name in files:
                data = open(os.path.join(root, name), "rb").read()
                for n in needles:
                    self.assertNotIn(n, data, f"{name} holds clear data")


if __name__ == "__main__":
    if not shutil.which("zbarimg"):
        print("SKIP: zbarimg is missing", file=sys.stderr)
        sys.exit(77)
    main()
