#!/usr/bin/env python3
"""retasd killed with SIGKILL at random points while it enrols and syncs.

retasd runs inside a umockdev testbed (umockdev-bed) with the emulated
NB-1010-U and Wacom pad, the virtual PTP/IP camera beside it, and syncs
automatically to a real `retas-hq serve` on loopback. Each round starts
retasd, checks the store (below), then either enrols one student through
`retas enroll` on the devices and kills retasd at a random moment of the
enrolment, its commit or the sync that follows, or kills it while it is
still starting. Between some rounds, while retasd is down, a few sealed
records are added with retas-seed-records (the daemon's own store code)
for volume: a full enrolment takes about a second on the devices, and
records of varied sizes make the uploads the kills land in longer.

After every restart: the store passes `PRAGMA integrity_check` (read only),
`retas audit verify` succeeds, every record acknowledged (printed by
`retas enroll` or by the seeding tool) is there with the same bytes, the
record chain has no gap, and every record the store lists opens with the
core library (open-record). At the end the van syncs to completion and
head office holds every record exactly once with the van's hash.

RETAS_CRASH_KILLS sets the number of kills (default 20; the long mode uses
200), RETAS_CRASH_SEED replays a run. Writes crash-retasd.json to
$RETAS_FIGURES_DIR. Exits 77 when umockdev cannot run here.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from crash_common import (VAN, HqServer, VanStore, audit_ok, cli, compare_with_hq,  # noqa: E402
                          drain, kills_wanted, make_rng, van_for_hq,
                          write_figures)
from harness import NIP, PIN, RETASD, WAIT, Keys, Notify  # noqa: E402
from students import Student, csv_of  # noqa: E402

BED = os.environ["UMOCKDEV_BED"]
OPEN_RECORD = os.environ["OPEN_RECORD"]
MODEL = os.environ["NB1010_MODEL"]
WACOM = os.environ["WACOM_FIXTURES"]
CAMERA = os.environ["PTPIP_CAMERA"]
FP_SYSFS = "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2"
PAD = "/dev/input/event5"
JARI = "1,6"
PRESSES = "gg"


class BedVan:
    """retasd as the child of umockdev-bed; killed by its own pid."""

    def __init__(self, tmp, bed_args, env, sets):
        self.tmp = tmp
        self.state = os.path.join(tmp, "state")
        self.sock = os.path.join(tmp, "retasd.sock")
        self.conf = os.path.join(tmp, "retasd.conf")
        self.log = os.path.join(tmp, "retasd.log")
        self.bed_args = bed_args
        self.env = env
        self.sets = sets
        self.proc = None
        self.pid = None
        self.notify = None
        self.lock = threading.Lock()

    def spawn(self):
        npath = os.path.join(self.tmp, "notify.sock")
        if os.path.exists(npath):
            os.unlink(npath)
        self.notify = Notify(npath)
        env = dict(os.environ, NOTIFY_SOCKET=npath, **self.env)
        args = [BED, *self.bed_args, "--", RETASD, "--config", self.conf, "--state-dir",
                self.state, "--socket", self.sock]
        for s in self.sets:
            args += ["--set", s]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("started pid="):
            raise AssertionError(f"umockdev-bed did not start retasd: {self.tail()}")
        self.pid = int(line.split("=")[1])

    def ready(self):
        try:
            self.notify.wait_for("READY=1", self.proc)
        except AssertionError as e:
            raise AssertionError(f"{e}:\n{self.tail()}") from None

    def events(self):
        with self.lock:
            try:
                self.proc.stdin.write(f"events {PAD} {os.path.join(WACOM, 'one-stroke.events')}\n")
                self.proc.stdin.flush()
                self.proc.stdout.readline()
            except (BrokenPipeError, ValueError, OSError):
                pass  # killed meanwhile

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            raise AssertionError(f"retasd ended before its kill:\n{self.tail()}") from None
        with self.lock:
            try:
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        rc = self.proc.wait(WAIT)
        self.proc.stdout.close()
        self.notify.close()
        self.proc = None
        return rc

    def stop(self):
        with self.lock:
            self.proc.stdin.close()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(WAIT)
        self.proc.stdout.close()
        self.notify.close()
        self.proc = None
        if rc != 0:
            raise AssertionError(f"retasd exited with {rc}:\n{self.tail()}")

    def tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-4000:]


class Enrolment:
    """`retas enroll` in the background; what it acknowledged."""

    def __init__(self, van, student):
        env = dict(os.environ, RETAS_SOCKET=van.sock)
        self.van = van
        self.proc = subprocess.Popen([os.environ["RETAS_CLI"], "enroll", student.nik, "--yes"],
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.out = []
        self.record = None
        self.signing = threading.Event()
        self.signed_at = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for line in self.proc.stdout:
            self.out.append(line)
            if "signs on the pad" in line:
                self.signed_at = time.monotonic()
                self.signing.set()
                self.van.events()
            if line.startswith("Recorded: record "):
                self.record = line.split()[2].rstrip(".")
        self.proc.wait()
        self.done.set()

    def finish(self):
        self.done.wait(WAIT)
        self.thread.join(WAIT)
        self.proc.stdout.close()


class CrashRetasd(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="retas-crash-")
        self.camera = None
        self.van = None
        self.hq = None

    def tearDown(self):
        if self.van and self.van.proc:
            self.van.kill()
        if self.camera:
            self.camera.terminate()
            self.camera.wait()
        if self.hq:
            self.hq.stop()
        if os.environ.get("RETAS_CRASH_KEEP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def setup_van(self, n_students):
        fix = os.path.join(self.tmp, "fix")
        os.mkdir(fix)
        subprocess.run([MODEL, fix, "--sequence", "run", PRESSES], check=True,
                       stdout=subprocess.DEVNULL)
        iolibs = os.path.join(self.tmp, "iolibs")
        os.mkdir(iolibs)
        os.symlink(os.path.join(os.environ["RETAS_GPHOTO2_IOLIBDIR"], "ptpip.so"),
                   os.path.join(iolibs, "ptpip.so"))
        self.camera = subprocess.Popen([CAMERA, "--port", "0", "--synth", "1200x1600"],
                                       stdout=subprocess.PIPE, text=True)
        line = self.camera.stdout.readline()
        self.assertTrue(line.startswith("ready port="), line)
        port = int(line.strip().split("=")[1])
        bed = ["--device", os.path.join(fix, "nb1010.umockdev"),
               "--device", os.path.join(WACOM, "one-stroke.umockdev"),
               "--pcap", f"{FP_SYSFS}={os.path.join(fix, 'run.pcap')}",
               "--ioctl", f"{PAD}={os.path.join(WACOM, 'one-stroke.ioctl')}"]
        old = os.environ.get("ASAN_OPTIONS", "")
        env = {"IOLIBS": iolibs, "HOME": self.tmp,
               "ASAN_OPTIONS": (old + ":" if old else "") + "verify_asan_link_order=0"}
        sets = [f"camera.port=ptpip:127.0.0.1:{port}:{port}", "camera.model=PTP/IP Camera",
                "fingerprint.quality_threshold=10", "fingerprint.retries=1"]
        self.van = BedVan(self.tmp, bed, env, sets)

        self.hq = HqServer(self.tmp, request_timeout=2)
        self.hq.start()
        keys = Keys(self.tmp, self.van)  # writes a first config, makes the device key
        letter, seal = van_for_hq(self.hq, keys, self.van.conf,
                                  "backoff_base = 100\nbackoff_cap = 500\nchunk_size = 64\n",
                                  ("--jari", JARI))
        students = [Student(f"Siswa Uji {i}", "LP"[i % 2], 17, i) for i in range(1, n_students + 1)]
        self.van.spawn()
        self.van.ready()
        sock = self.van.sock
        for args, stdin in ((("assignment", "load", letter), None),
                            (("login", NIP, "--pin-stdin"), PIN + "\n"),
                            (("students", "import", "-"), csv_of(students)),
                            (("session", "open"), None)):
            p = cli(sock, *args, stdin=stdin)
            self.assertEqual(p.returncode, 0, f"{args}: {p.stdout}{p.stderr}")
        self.store = VanStore(self.van.state, OPEN_RECORD, keys.van_pub, seal, self.tmp)
        return students

    def seed(self, n, photo_len):
        return self.store.seed(self.van.conf, n, photo_len)

    def test_crash_retasd_kills_lose_nothing(self):
        kills = kills_wanted(20)
        seed, rng = make_rng("crash-retasd")
        students = iter(self.setup_van(kills + 5))
        # One enrolment without a kill: how long the kill window must be.
        t0 = time.monotonic()
        e = Enrolment(self.van, next(students))
        e.finish()
        self.assertEqual(e.proc.returncode, 0, "".join(e.out) + self.van.tail())
        self.assertIsNotNone(e.record, e.out)
        self.store.acknowledge(e.record)
        end = time.monotonic()
        window = (end - t0) * 1.3
        # The commit comes at the end of the signature's time (the pad's
        # pause ends it); aimed kills land around it.
        tail = end - e.signed_at
        aim = (tail * 0.6, tail + 0.5)
        print(f"crash-retasd: one enrolment takes {window / 1.3:.2f} s, {tail:.2f} s of it "
              f"from the signature on; kills land within {window:.2f} s of its start or "
              f"{aim[0]:.2f}-{aim[1]:.2f} s after the signature began", flush=True)
        self.van.kill()

        enrolled, seeded, attempts = 1, 0, []
        phases = {"startup": 0, "enrolment": 0, "signature_commit": 0, "after": 0}
        started = time.monotonic()
        for k in range(kills):
            self.van.spawn()
            if rng.random() < 0.1:
                # Killed while it opens the store, migrates, recovers the
                # outbox or starts syncing.
                time.sleep(rng.uniform(0, 0.3))
                self.van.kill()
                phases["startup"] += 1
            else:
                self.van.ready()
                self.check(k)
                student = next(students)
                e = Enrolment(self.van, student)
                attempts.append((student, e))
                t0 = time.monotonic()
                if rng.random() < 0.5:
                    # Aimed at the end of the signature, the sealing and
                    # commit, the receipt and the sync after.
                    if e.signing.wait(WAIT):
                        t0 = e.signed_at
                    at = rng.uniform(*aim)
                else:
                    at = rng.uniform(0, window)
                finished = e.done.wait(max(0, t0 + at - time.monotonic()))
                if not finished:
                    phases["signature_commit" if e.signing.is_set() else "enrolment"] += 1
                else:
                    phases["after"] += 1
                    left = t0 + at - time.monotonic()
                    if left > 0:
                        time.sleep(left)  # the kill point: sync and idle time
                self.van.kill()
                e.finish()
                if e.record:
                    self.store.acknowledge(e.record)
                    enrolled += 1
            if rng.random() < 0.3:
                seeded += self.seed(rng.randint(1, 6), rng.choice((2000, 30000, 150000)))
        print(f"crash-retasd: {kills} kills in {time.monotonic() - started:.1f} s "
              f"({phases}), {enrolled} enrolled, {seeded} seeded", flush=True)

        self.van.spawn()
        self.van.ready()
        self.check(kills)
        # Committed, but killed before the officer saw it.
        unseen = self.after_kills(attempts) - enrolled
        n = self.check(kills)
        q = drain(self.van.sock)
        self.assertEqual(q["acknowledged"], n, q)
        van_hashes = self.store.sealed_hashes()
        self.assertEqual(len(van_hashes), n)
        lost, dups = compare_with_hq(self.hq, van_hashes)
        lost += sum(1 for r in self.store.acked if r not in van_hashes)
        batches = self.hq.check_batches()
        self.van.stop()
        write_figures("crash-retasd", {"kills": kills, "records": n, "records_lost": lost,
                                       "duplicates": dups, "seed": seed, "enrolled": enrolled,
                                       "seeded": seeded, "batches": batches,
                                       "committed_unacknowledged": unseen,
                                       "kills_startup": phases["startup"],
                                       "kills_enrolment": phases["enrolment"],
                                       "kills_signature_commit": phases["signature_commit"],
                                       "kills_after": phases["after"]})
        self.assertEqual((lost, dups), (0, 0))

    def after_kills(self, attempts):
        """Every enrolment that reached its commit gives its receipt again,
        whether or not the officer saw it before the kill; one killed before
        its commit can be done again from the start."""
        db = sqlite3.connect(f"file:{self.store.path}?mode=ro", uri=True)
        with_token = db.execute("SELECT count(*) FROM record WHERE token != ''").fetchone()[0]
        db.close()
        pdf = os.path.join(self.tmp, "resi.pdf")
        printed, retry = 1, None  # the enrolment before the kills
        for student, e in attempts:
            p = cli(self.van.sock, "receipt", student.nik, "-o", pdf)
            if p.returncode == 0:
                printed += 1
            else:
                self.assertIsNone(e.record, f"acknowledged, but no receipt: {p.stderr}")
                self.assertIn("no record", p.stderr)
                retry = student
        self.assertEqual(printed, with_token)
        if retry:
            e = Enrolment(self.van, retry)
            e.finish()
            self.assertEqual(e.proc.returncode, 0, "".join(e.out) + self.van.tail())
            self.store.acknowledge(e.record)
            self.van.kill()
            self.van.spawn()
            self.van.ready()
        return printed

    def check(self, k):
        try:
            n = self.store.check()
            audit_ok(self.van.sock)
        except AssertionError as e:
            raise AssertionError(f"after kill {k}: {e}\n{self.van.tail()}") from None
        return n


if __name__ == "__main__":
    unittest.main(verbosity=2)
