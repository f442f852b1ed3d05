#!/usr/bin/env python3
"""The van's clock set a day forwards or backwards while retasd runs.

The daemon's clock is moved with clock.offset and a SIGHUP reload, the way
an officer (or a dead RTC battery plus NTP) moves the system clock under a
running daemon. What must hold (docs/retasd.md, "Time"):
- the letter's window is checked on the clock as it reads now, at
  OpenSession, EnrollBegin and EnrollCommit: a day on is past the window,
  a day back before it, and the refusal names the window's end;
- a lockout lasts login.lockout seconds of elapsed time: a day forwards
  does not lift it, a day backwards does not stretch it by a day;
- a clock set back inside the window but before the van's last record
  refuses enrolment (a record would be dated before the one it follows);
- an idle login ends after login.idle_timeout seconds of elapsed time even
  when the clock went back a day.
The elapsed-time cases wait the (short) configured time itself: that time
passing is what is under test.
"""
import datetime
import os
import sys
import time

sys.path.insert(0, os.environ["RD_HARNESS_DIR"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NIP, PIN, Client, DaemonTest, conf_text, main, run_ok  # noqa: E402
from students import CLASS, csv_of  # noqa: E402
from disk_clock_bed import SETS, EnrolBase  # noqa: E402

DAY = 86400


class ClockJump(DaemonTest):
    sets = ("login.lockout=3", "login.max_failures=3")

    def set_clock(self, offset):
        self.d.reload(conf_text(self.keys.hq_pub, f"[clock]\noffset = {offset}\n"))

    def ready(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(), 0)

    def lock(self):
        for _ in range(3):
            r = self.d.call("Login", {"nip": NIP, "pin": "000000"})
        self.assertRefused(r, "login.wrong-pin-locked")

    def test_clock_forward_day_refuses_open_session(self):
        self.ready()
        self.set_clock(DAY)
        # A day without activity on the wall clock ends the login at once:
        # ending a login early is the safe mistake.
        self.assertNotIn("login", self.d.call("Status")["parameters"])
        self.assertCli(self.login(), 0)
        p = self.d.cli("session", "open")
        self.assertCli(p, 1, err="expired at")
        r = self.assertRefused(self.d.call("OpenSession"), "st.expired")
        until = self.d.call("ShowAssignment")["parameters"]["assignment"]["valid_until"]
        self.assertEqual(r["args"]["valid_until"], until)
        self.assertIn(until, r["message"])

    def test_clock_back_day_refuses_open_session(self):
        self.ready()
        self.set_clock(-DAY)
        self.assertCli(self.d.cli("session", "open"), 1, err="is valid only from")
        r = self.assertRefused(self.d.call("OpenSession"), "st.not-yet-valid")
        since = self.d.call("ShowAssignment")["parameters"]["assignment"]["valid_from"]
        self.assertEqual(r["args"]["valid_from"], since)
        self.assertIn(since, r["message"])

    def test_clock_jump_in_open_session_refuses_enroll(self):
        self.ready()
        self.assertCli(self.d.cli("students", "import", "-", stdin=csv_of(CLASS)), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        for offset, reason, words in ((DAY, "st.expired", "expired at"),
                                      (-DAY, "st.not-yet-valid", "is valid only from")):
            self.set_clock(offset)
            self.assertCli(self.login(), 0)
            self.assertRefused(self.d.call("EnrollBegin", {"nik": CLASS[0].nik}), reason)
            p = self.d.cli("enroll", CLASS[0].nik, "--yes")
            self.assertCli(p, 1, err=words)
        # Back on time, the same student may start (and is refused only for
        # the missing camera, the first device check: the window passed).
        self.set_clock(0)
        self.assertCli(self.login(), 0)
        self.assertRefused(self.d.call("EnrollBegin", {"nik": CLASS[0].nik}),
                           "preflight.device")

    def test_clock_back_behind_last_record_refuses_enroll(self):
        self.ready()
        self.assertCli(self.d.cli("students", "import", "-", stdin=csv_of(CLASS)), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        out = run_ok([os.environ["RETAS_SEED_RECORDS"], "--config", self.d.conf,
                      "--state-dir", self.d.state, "-n", "1"])
        self.assertEqual(len(out.splitlines()), 1)
        # Ten minutes back: still inside the window, but before the record.
        self.set_clock(-600)
        r = self.assertRefused(self.d.call("EnrollBegin", {"nik": CLASS[0].nik}),
                               "preflight.clock-behind")
        last = datetime.datetime.fromisoformat(r["args"]["known"]).timestamp()
        now = datetime.datetime.fromisoformat(r["args"]["now"]).timestamp()
        self.assertLess(now, last)
        self.assertLessEqual(last, time.time())
        self.assertIn("before the van's last record", r["message"])
        self.set_clock(0)
        self.assertRefused(self.d.call("EnrollBegin", {"nik": CLASS[0].nik}),
                           "preflight.device")

    def test_clock_forward_day_keeps_lockout(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.lock()
        self.set_clock(DAY)
        r = self.assertRefused(self.d.call("Login", {"nip": NIP, "pin": PIN}), "login.locked")
        # The end it names is on the clock as it now reads: a day on, and
        # no more than the lockout's three seconds from now.
        until = datetime.datetime.fromisoformat(r["args"]["until"]).timestamp()
        self.assertGreater(until, time.time() + DAY - 1)
        self.assertLessEqual(until, time.time() + DAY + 3)
        self.assertCli(self.login(), 1, err="locked")

    def test_clock_back_day_does_not_stretch_lockout(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.lock()
        t0 = time.monotonic()
        self.set_clock(-DAY)
        self.assertRefused(self.d.call("Login", {"nip": NIP, "pin": PIN}), "login.locked")
        # The lockout's own three seconds, no day more.
        time.sleep(max(0.0, 3.2 - (time.monotonic() - t0)))
        self.assertCli(self.login(), 0)

    def test_clock_back_day_idle_login_still_ends(self):
        self.d.start(sets=list(self.sets) + ["login.idle_timeout=2"])
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(), 0)
        t0 = time.monotonic()  # the login's activity was before its reply
        self.set_clock(-DAY)
        self.assertIn("login", self.d.call("Status")["parameters"])
        time.sleep(max(0.0, 2.5 - (time.monotonic() - t0)))
        self.assertNotIn("login", self.d.call("Status")["parameters"])
        self.assertIn("logged out after 2 s without activity", self.d.read_log())


class ClockJumpCommit(EnrolBase):
    """The clock moves between the captures and EnrollCommit (emulated devices)."""

    def test_clock_jump_refuses_commit_and_keeps_captures(self):
        # No idle logout here: the window is under test, not the login.
        self.start("g", sets=[*SETS, "login.idle_timeout=0"])
        with Client(self.d.sock) as c:
            eid = self.capture(c, CLASS[0])
            for offset, reason in ((DAY, "st.expired"), (-DAY, "st.not-yet-valid")):
                self.d.reload(conf_text(self.keys.hq_pub, f"[clock]\noffset = {offset}\n"))
                r = c.call("EnrollCommit", {"id": eid})
                self.assertRefused(r, reason)
                self.assertEqual(self.d.call("Queue")["parameters"]["waiting"], 0)
            # The clock set right: the same enrolment, its captures kept, commits.
            self.d.reload(conf_text(self.keys.hq_pub, ""))
            r = c.call("EnrollCommit", {"id": eid})
            self.assertNotIn("error", r, f"{r}\n{self.d.read_log()}")
            self.assertEqual(r["parameters"]["seq"], 1)


if __name__ == "__main__":
    main()
