#!/usr/bin/env python3
"""The van's state directory on a small, full disk.

Each test mounts a tmpfs of a few MiB on the daemon's state directory, in
a mount namespace of its own (the script re-runs itself under
`unshare -m`; exit 77 when the machine allows neither that nor mount).
What must hold (issue #11, Resources):
- below preflight.min_free_mb, OpenSession and EnrollBegin refuse before
  any device is touched, naming the free space, in English and in
  Indonesian through the CLI;
- an ENOSPC in the middle of EnrollCommit (the disk filled between the
  captures and the commit) is refused as a store failure that loses
  nothing: every record acknowledged before is there, chained, the store
  passes PRAGMA integrity_check, the audit chain verifies, the daemon
  keeps answering; once space is freed the same enrolment commits.
The commit case runs the real driver stack on emulated devices
(tests/devices/enroll) and is skipped when umockdev is not built.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

NS_MARK = "RETAS_DISK_TEST_NS"


def reexec_in_namespace():
    if os.environ.get(NS_MARK) == "1":
        return
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("SKIP: needs root and unshare for a private tmpfs", file=sys.stderr)
        sys.exit(77)
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        print(f"SKIP: unshare -m refused: {probe.stderr.decode().strip()}", file=sys.stderr)
        sys.exit(77)
    os.environ[NS_MARK] = "1"
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable,
                          os.path.abspath(__file__), *sys.argv[1:]])


reexec_in_namespace()

sys.path.insert(0, os.environ["RD_HARNESS_DIR"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IFACE, Client, Daemon, DaemonTest, Keys, main  # noqa: E402
from students import CLASS, csv_of  # noqa: E402

from disk_clock_bed import SETS, EnrolBase  # noqa: E402

MIB = 1024 * 1024


def mount_tmpfs(path, mib):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m,mode=0700", "tmpfs", path],
                   check=True)


def free_mib(path):
    sv = os.statvfs(path)
    return sv.f_bavail * sv.f_frsize // MIB


def fill(path, leave_bytes=0):
    """Writes a ballast file until only leave_bytes are free (or ENOSPC)."""
    ballast = os.path.join(path, "ballast")
    with open(ballast, "ab") as f:
        chunk = b"\0" * 65536
        while True:
            sv = os.statvfs(path)
            left = sv.f_bavail * sv.f_frsize - leave_bytes
            if left <= 0:
                break
            try:
                f.write(chunk[:min(len(chunk), left)])
                f.flush()
            except OSError:
                break
    return ballast


class DiskFloor(DaemonTest):
    """The pre-flight floor, no devices needed."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="retasd-disk-")
        mount_tmpfs(os.path.join(self.tmp, "state"), 16)
        self.d = Daemon(self.tmp, self.sets)
        self.keys = Keys(self.tmp, self.d)

    def tearDown(self):
        state = os.path.join(self.tmp, "state")
        try:
            super().tearDown()
        finally:
            subprocess.run(["umount", "-l", state])
            shutil.rmtree(self.tmp, ignore_errors=True)

    def test_disk_floor_refuses_open_session(self):
        self.d.start(sets=["preflight.min_free_mb=64"])
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(), 0)
        free = free_mib(self.d.state)
        self.assertLess(free, 16)
        r = self.assertRefused(self.d.call("OpenSession"), "preflight.disk")
        self.assertEqual(r["args"], {"free": str(free), "min": "64"})
        self.assertCli(self.d.cli("session", "open"), 1,
                       err=f"Free space for the store is {free} MiB, below the minimum of "
                           "64 MiB.")
        self.assertEqual(self.d.call("Status")["parameters"]["state"], "assignment-loaded")

    def test_disk_floor_refuses_enroll_before_capture(self):
        self.d.start(sets=["preflight.min_free_mb=2"])
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("students", "import", "-", stdin=csv_of(CLASS)), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        ballast = fill(self.d.state, leave_bytes=MIB + MIB // 2)
        free = free_mib(self.d.state)
        self.assertEqual(free, 1)
        r = self.assertRefused(self.d.call("EnrollBegin", {"nik": CLASS[0].nik}),
                               "preflight.disk")
        self.assertEqual(r["args"], {"free": "1", "min": "2"})
        self.assertIn("Free space for the store is 1 MiB", r["message"])
        # The CLI says it in the officer's language, before asking for a finger.
        p = self.d.cli("enroll", CLASS[0].nik, "--yes")
        self.assertCli(p, 1, err="Free space for the store is 1 MiB, below the minimum of 2 MiB.")
        self.assertNotIn("Place the", p.stdout)
        locales = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
        if "id_ID.utf8" in locales.split():
            p = self.d.cli("enroll", CLASS[0].nik, "--yes",
                           env={"LC_ALL": "", "LANG": "id_ID.UTF-8"})
            self.assertCli(p, 1, err="Ruang kosong untuk penyimpanan tinggal 1 MiB, di bawah "
                                     "batas minimum 2 MiB.")
        # Still serving; with space back the same student passes the floor
        # (and stops at the missing camera, the next check).
        self.assertEqual(self.d.call("Status")["parameters"]["state"], "session-open")
        os.unlink(ballast)
        self.assertRefused(self.d.call("EnrollBegin", {"nik": CLASS[0].nik}),
                           "preflight.device")


class DiskFullCommit(EnrolBase):
    """ENOSPC in the middle of a commit, on the emulated devices."""

    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmp, "state")
        mount_tmpfs(self.state, 24)

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            subprocess.run(["umount", "-l", self.state])

    def records(self):
        db = sqlite3.connect(f"file:{os.path.join(self.state, 'retasd.db')}?mode=ro", uri=True)
        try:
            return db.execute("SELECT id, seq, prev_hash, hash FROM record ORDER BY seq").fetchall()
        finally:
            db.close()

    def test_disk_full_commit_loses_nothing(self):
        self.start("gggg", sets=[*SETS, "preflight.min_free_mb=1"])
        acked = []
        with Client(self.d.sock) as c:
            eid = self.capture(c, CLASS[0])
            r = c.call("EnrollCommit", {"id": eid})
            self.assertNotIn("error", r, r)
            acked.append(r["parameters"]["record_id"])
            # The disk fills between the captures and the commit (the
            # floor was passed at EnrollBegin): commit until one fails.
            failed = None
            for s in CLASS[1:4]:
                eid = self.capture(c, s)
                ballast = fill(self.state)
                self.assertEqual(free_mib(self.state), 0)
                r = c.call("EnrollCommit", {"id": eid})
                if "error" in r:
                    failed = r
                    break
                acked.append(r["parameters"]["record_id"])
                os.unlink(ballast)
            self.assertIsNotNone(failed, "no commit met a full disk")
            full_tries = len(acked)
            self.assertEqual(failed["error"], f"{IFACE}.Refused", failed)
            self.assertEqual(failed["parameters"]["reason"], "internal.store", failed)
            self.assertEqual(failed["parameters"]["args"]["error"], os.strerror(28))

            # Still serving, on the full disk, and nothing acknowledged is gone.
            st = c.call("Status")["parameters"]
            self.assertEqual(st["state"], "session-open")
            rows = self.records()
            self.assertEqual([x[0] for x in rows], acked)
            for prev, cur in zip(rows, rows[1:]):
                self.assertEqual(cur[2], prev[3])
            v = c.call("VerifyAudit")["parameters"]
            self.assertTrue(v["ok"], v)
            self.assertEqual(v["integrity"], "ok")

            # Space back: the same enrolment, its captures kept, commits.
            os.unlink(ballast)
            r = c.call("EnrollCommit", {"id": eid})
            self.assertNotIn("error", r, f"{r}\n{self.d.read_log()}")
            acked.append(r["parameters"]["record_id"])
            self.assertEqual(r["parameters"]["seq"], len(acked))
        rows = self.records()
        self.assertEqual([x[0] for x in rows], acked)
        for prev, cur in zip(rows, rows[1:]):
            self.assertEqual(cur[2], prev[3])
        v = self.d.call("VerifyAudit")["parameters"]
        self.assertTrue(v["ok"], v)
        self.assertEqual(v["integrity"], "ok")
        self.assertIn("EnrollCommit: store failed: No space left on device", self.d.read_log())
        write_figures({"commits_acked": len(acked), "acked_before_full": full_tries,
                       "records_lost": 0, "integrity": "ok"})


def write_figures(fig):
    out = os.environ.get("RETAS_FIGURES_DIR")
    print(f"disk-full: {fig}", file=sys.stderr)
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "disk-full.json"), "w") as f:
            json.dump(fig, f)


if __name__ == "__main__":
    main()
