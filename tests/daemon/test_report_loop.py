#!/usr/bin/env python3
"""The event loop never blocks on a report: while the draft report of a
big session is rendered and written (CloseSession), and while a receipt
or a Report is rendered, another connection's Status is answered at once.
Nor does a PIN check wait for a render: documents have a worker thread of
their own. The render time is measured in the same run (Report {format:
pdf} renders the same PDF), so the deadlines mean something."""
import base64
import contextlib
import datetime
import os
import time

from harness import NIP, PIN, DaemonTest, main

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
    def ready(self, n=N_STUDENTS):
        self.d.start()
        letter = self.keys.letter("st.jws")
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        r = self.d.call("ImportStudents", {"csv": big_class(n)})
        self.assertNotIn("error", r, r)
        self.assertEqual(r["parameters"]["imported"], n, r)
        self.assertCli(self.d.cli("session", "open"), 0)

    def status_while(self, method, params, quick_method="Status", quick_params=None):
        """Sends method on one connection and quick_method on another right
        after; returns (seconds the quick one took, seconds method took, the
        method's reply)."""
        with self.d.connect() as slow, self.d.connect() as quick:
            t0 = time.monotonic()
            slow.send(method, params)
            quick.send(quick_method, quick_params)
            st = quick.recv()
            t_status = time.monotonic() - t0
            self.assertNotIn("error", st, st)
            reply = slow.recv()
            t_slow = time.monotonic() - t0
        return t_status, t_slow, reply

    def timed(self, method, params=None):
        t0 = time.monotonic()
        r = self.d.call(method, params)
        self.assertNotIn("error", r, r)
        return time.monotonic() - t0

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

    def test_daemon_pin_check_does_not_wait_for_a_render(self):
        # The session is not closed here, so it may be bigger than a
        # signed draft allows: the render then dwarfs the PIN check.
        self.ready(4 * N_STUDENTS)
        login = {"nip": NIP, "pin": PIN}
        self.timed("Report", {"format": "pdf"})
        render = self.timed("Report", {"format": "pdf"})
        pin = min(self.timed("Login", login) for _ in range(3))
        self.assertGreater(render, 0.1, "the session is too small to show a queued PIN check")
        # Behind the render on one worker, the PIN check would take the
        # render's time and its own.
        t_login, t_report, r = self.status_while("Report", {"format": "pdf"}, "Login", login)
        self.assertNotIn("error", r, r)
        print(f"render {render:.3f} s, PIN check {pin:.3f} s; "
              f"Login during Report {t_login:.3f} s of {t_report:.3f} s")
        self.assertLess(t_login, pin + render / 2)

    def test_daemon_report_storm_is_refused_not_rendered_on_the_loop(self):
        self.ready()
        # The model is built on the loop in a fraction of a render's time,
        # so many callers at once fill the document queue (8 waiting).
        n = 24
        with contextlib.ExitStack() as stack:
            conns = [stack.enter_context(self.d.connect()) for _ in range(n)]
            for c in conns:
                c.send("Report", {"format": "pdf"})
            replies = [c.recv() for c in conns]
        refused = [r for r in replies if "error" in r]
        done = [r for r in replies if "error" not in r]
        for r in refused:
            self.assertEqual(r["parameters"]["reason"], "document.queue-full", r)
            self.assertEqual(r["parameters"]["message"], "Too many reports and receipts are "
                             "being prepared; try again in a moment.")
        for r in done:
            pdf = base64.urlsafe_b64decode(r["parameters"]["data"] + "==")
            self.assertEqual(pdf[:5], b"%PDF-")
        print(f"{n} Reports at once: {len(done)} rendered, {len(refused)} refused")
        self.assertGreaterEqual(len(done), 8)
        self.assertGreaterEqual(len(refused), 1)
        # The queue drains: the next caller is served.
        self.assertNotIn("error", self.d.call("Report", {"format": "pdf"}))


if __name__ == "__main__":
    main()
