#!/usr/bin/env python3
"""The event loop never blocks on a report: while the draft report of a
big session is rendered and written (CloseSession), and while a receipt
or a Report is rendered, another connection's Status is answered at once.
The render time is measured in the same run (Report {format: pdf} renders
the same PDF), so the deadline on Status means something."""
import datetime
import os
import time

from harness import DaemonTest, main

# Enough students that the PDF takes a good while to draw, and few enough
# that the signed draft stays under the JWS size limit (about 2400).
N_STUDENTS = int(os.environ.get("RETAS_REPORT_STUDENTS", "2400"))


def big_class(n):
    """n valid students 17 to 19 years old, NIKs unique by birth date and
    serial."""
    today = datetime.date.today()
    rows = ["NIK;Nama;Jenis Kelamin;Tanggal Lahir;Kelas"]
    for i in range(n):
        birth = today.replace(year=today.year - 18) - datetime.timedelta(days=20 + i % 300)
        gender = "LP"[i % 2]
        day = birth.day + (40 if gender == "P" else 0)
        nik = f"157101{day:02d}{birth.month:02d}{birth.year % 100:02d}{i // 300 + 1:04d}"
        rows.append(f"{nik};Siswa Nomor {i:05d} Bin Abdullah;{gender};{birth.isoformat()};XII IPA {i % 9 + 1}")
    return "\n".join(rows) + "\n"


class ReportLoop(DaemonTest):
    def ready(self):
        self.d.start()
        letter = self.keys.letter("st.jws")
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        r = self.d.call("ImportStudents", {"csv": big_class(N_STUDENTS)})
        self.assertNotIn("error", r, r)
        self.assertEqual(r["parameters"]["imported"], N_STUDENTS, r)
        self.assertCli(self.d.cli("session", "open"), 0)

    def status_while(self, method, params):
        """Sends method on one connection and Status on another right
        after; returns (seconds Status took, seconds method took, the
        method's reply). Status must come back first."""
        with self.d.connect() as slow, self.d.connect() as quick:
            t0 = time.monotonic()
            slow.send(method, params)
            quick.send("Status")
            st = quick.recv()
            t_status = time.monotonic() - t0
            self.assertNotIn("error", st, st)
            reply = slow.recv()
            t_slow = time.monotonic() - t0
        return t_status, t_slow, reply

    def test_daemon_status_answers_while_report_renders(self):
        self.ready()
        # The render time: a Report {format: pdf} alone (the second, warm),
        # the same PDF CloseSession writes.
        self.assertNotIn("error", self.d.call("Report", {"format": "pdf"}))
        t0 = time.monotonic()
        r = self.d.call("Report", {"format": "pdf"})
        render = time.monotonic() - t0
        self.assertNotIn("error", r, r)
        self.assertGreater(render, 0.1, "the session is too small to show a blocked loop")
        # The old loop answered Status only after the whole render.
        deadline = render / 2
        t_status, t_report, r = self.status_while("Report", {"format": "pdf"})
        self.assertNotIn("error", r, r)
        print(f"render {render:.3f} s; Status during Report {t_status:.3f} s of {t_report:.3f} s")
        self.assertLess(t_status, deadline)
        t_status, t_close, r = self.status_while("CloseSession", None)
        self.assertNotIn("error", r, r)
        print(f"Status during CloseSession {t_status:.3f} s of {t_close:.3f} s")
        self.assertLess(t_status, deadline)
        # The call answers once the draft is on disk, as before.
        base = os.path.join(self.d.state, "laporan", r["parameters"]["session"]["id"])
        for ext in (".jws", ".csv", ".pdf"):
            self.assertGreater(os.path.getsize(base + ext), 0, ext)
        self.assertIn(f"draft report laporan/{r['parameters']['session']['id']} written",
                      self.d.read_log())


if __name__ == "__main__":
    main()
