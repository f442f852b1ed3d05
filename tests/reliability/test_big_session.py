#!/usr/bin/env python3
"""A big school day: N students on the list, N records, one session.

retasd runs throughout against a real `retas-hq serve` on loopback. The
list is imported through `retas students import` (lib/retas-students.c);
the records are sealed into the running daemon's store in tenths by
retas-seed-records (the daemon's own store code and the core library's
seal, one transaction a record like a commit), each record for a listed
student. After every tenth the test makes the daemon do a tenth's work
(Status, Queue, ListStudents, the draft Report) and samples its memory
(VmRSS from /proc). What must hold:
- memory stays flat: VmRSS after the last tenth exceeds that after the
  first by less than RSS_GROWTH_MAX_KB (a leak of a record's size per
  record would be N times that);
- CloseSession writes the draft report (laporan/: CSV, PDF, JWS) listing
  every student;
- the queue syncs: every record acknowledged by head office, each stored
  there once.
Figures go to $RETAS_FIGURES_DIR/big-session.json.

N is 10 000 (about a minute), or RETAS_BIG_SESSION; 2000 when retasd is
built with ASan, whose quarantine also makes RSS meaningless: the memory
bound is then not checked (the figures are still written).
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "sync"))
from harness import (NIP, PIN, RETASD, DaemonTest, MKLETTER, main,  # noqa: E402
                     rfc3339, run_ok)
from students import birth_aged, nik_for  # noqa: E402
from test_sync_retasd import VAN, HqServer, json_objects  # noqa: E402

SEED = os.environ["RETAS_SEED_RECORDS"]


def asan_build():
    p = subprocess.run(["ldd", RETASD], capture_output=True, text=True)
    return "libasan" in p.stdout


N = int(os.environ.get("RETAS_BIG_SESSION", "0")) or (2000 if asan_build() else 10000)
RSS_GROWTH_MAX_KB = 16 * 1024
PHOTO_LEN = 4096


def proc_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} for {pid}")


def student_rows(n):
    """n distinct valid NIKs of 17-year-olds, half of them girls."""
    rows = []
    for k in range(n):
        gender = "P" if k % 2 else "L"
        birth = birth_aged(17, days_after=10 + k % 200)
        district = f"1571{1 + k // 9999 % 11:02d}"
        nik = nik_for(birth, gender, 1 + k % 9999, district)
        rows.append((nik, f"Siswa {k + 1}", gender, birth.isoformat(), f"XII {k % 12 + 1}"))
    return rows


class BigSession(DaemonTest):

    def setUp(self):
        super().setUp()
        self.hq = HqServer(self.tmp)
        self.hq.start()
        with open(self.d.conf, "w") as f:
            f.write(f"[hq]\nsign_key = {self.hq.sign_pub}\n"
                    f"[sync]\nurl = {self.hq.url}\nallow_http = 1\nauto = 0\n"
                    "backoff_base = 200\nbackoff_cap = 1000\n")
        p = self.hq.run("van", "register", self.keys.van_pub, "--id", VAN)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.letter = os.path.join(self.tmp, "letter.jws")
        keys = os.path.join(self.hq.dir, "keys")
        run_ok([MKLETTER, "--sign-key", os.path.join(keys, "sign.key"),
                "--seal-keypair", os.path.join(keys, "seal.key"),
                "--device-key", self.keys.van_pub, "--van-id", VAN,
                "--from", rfc3339(-3600), "--until", rfc3339(8 * 3600),
                "--nomor", "800/041/DUKCAPIL/2026", "--petugas", f"{NIP}:Rina Marlina:{PIN}",
                "-o", self.letter])

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.hq.stop()

    def call_ok(self, method, params=None):
        r = self.d.call(method, params)
        self.assertNotIn("error", r, f"{method}: {str(r)[:500]}")
        return r["parameters"]

    def cli_json(self, *args, rc=0):
        p = self.d.cli(*args, "--json")
        self.assertCli(p, rc)
        return json_objects(p.stdout)[-1].get("parameters", {})

    def test_big_session(self):
        self.d.start()
        pid = self.d.proc.pid
        self.assertCli(self.d.cli("assignment", "load", self.letter), 0)
        self.assertCli(self.login(), 0)
        rows = student_rows(N)
        csv = "NIK,Nama,Jenis Kelamin,Tanggal Lahir,Kelas\n" + "".join(
            ",".join(r) + "\n" for r in rows)
        niks = os.path.join(self.tmp, "niks.txt")
        with open(niks, "w") as f:
            f.write("".join(r[0] + "\n" for r in rows))
        t0 = time.monotonic()
        p = self.d.cli("students", "import", "-", stdin=csv)
        import_s = time.monotonic() - t0
        self.assertCli(p, 0)
        self.assertEqual(len(self.call_ok("ListStudents")["students"]), N)
        self.assertCli(self.d.cli("session", "open"), 0)

        tenths = [N // 10] * 9 + [N - 9 * (N // 10)]
        rss = []
        seeded = {}
        for t in range(10):
            out = run_ok([SEED, "--config", self.d.conf, "--state-dir", self.d.state,
                          "-n", str(tenths[t]), "--photo-len", str(PHOTO_LEN),
                          "--nik-file", niks, "--nik-skip", str(sum(tenths[:t]))])
            for line in out.splitlines():
                rid, _seq, h = line.split()
                seeded[rid] = h
            # a tenth of the day's calls
            self.call_ok("Status")
            q = self.call_ok("Queue")
            done = sum(tenths[:t + 1])
            self.assertEqual(q["waiting"], done, q)
            listed = self.call_ok("ListStudents")["students"]
            self.assertEqual(sum(1 for s in listed if s.get("record_id")), done)
            rep = json.loads(self.call_ok("Report", {"format": "json"})["data"])
            self.assertEqual((rep["ringkasan"]["sasaran"]["total"],
                              rep["ringkasan"]["direkam"]["total"]), (N, done))
            rss.append(proc_kb(pid, "VmRSS"))
        self.assertEqual(len(seeded), N)
        growth = rss[-1] - rss[0]
        hwm_day = proc_kb(pid, "VmHWM")

        t0 = time.monotonic()
        self.assertCli(self.d.cli("session", "close"), 0)
        report_ms = int((time.monotonic() - t0) * 1000)
        hwm_close = proc_kb(pid, "VmHWM")
        lap = os.path.join(self.d.state, "laporan")
        self.assertTrue(os.path.isdir(lap), self.d.read_log()[-2000:])
        names = sorted(os.listdir(lap))
        self.assertEqual([n.rsplit(".", 1)[1] for n in names], ["csv", "jws", "pdf"])
        with open(os.path.join(lap, names[0])) as f:
            lines = f.read().strip().splitlines()
        self.assertEqual(len(lines), N + 1)  # a header, then every student
        for nik, nama, *_ in (rows[0], rows[-1]):
            self.assertTrue(any(nama in ln for ln in lines), nama)
        t = subprocess.run(["pdftotext", "-layout", os.path.join(lap, names[2]), "-"],
                           capture_output=True, text=True)
        self.assertEqual(t.returncode, 0, t.stderr)
        self.assertIn(rows[-1][1], t.stdout)

        t0 = time.monotonic()
        deadline = t0 + 600
        while True:
            res = self.cli_json("sync", "--now")
            self.assertIn(res["outcome"], ("acknowledged", "nothing"), res)
            q = self.call_ok("Queue")
            rss.append(proc_kb(pid, "VmRSS"))
            if q["acknowledged"] == N or time.monotonic() > deadline:
                break
        sync_s = round(time.monotonic() - t0, 1)
        self.assertEqual((q["waiting"], q["uploading"], q["acknowledged"], q["quarantined"]),
                         (0, 0, N, 0), q)
        self.assertEqual(self.hq.records(), seeded)
        peak = proc_kb(pid, "VmHWM")
        fig = {"students": N, "records": N, "peak_rss_kb": peak, "rss_growth_kb": growth,
               "peak_rss_day_kb": hwm_day, "peak_rss_close_kb": hwm_close,
               "rss_first_tenth_kb": rss[0], "rss_last_tenth_kb": rss[9],
               "rss_after_sync_kb": rss[-1], "import_ms": int(import_s * 1000),
               "report_ms": report_ms, "sync_s": sync_s}
        print(f"big-session: {json.dumps(fig)}", file=sys.stderr)
        out = os.environ.get("RETAS_FIGURES_DIR")
        if out:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, "big-session.json"), "w") as f:
                json.dump(fig, f)
        if asan_build():
            print("big-session: ASan build, memory bound not checked", file=sys.stderr)
        else:
            self.assertLess(growth, RSS_GROWTH_MAX_KB, fig)


if __name__ == "__main__":
    main()
