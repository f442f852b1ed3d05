#!/usr/bin/env python3
"""EnrollBegin's checks, each refusal naming itself: the session, the NIK,
the student (listed, or added on the spot and checked against the NIK),
duplicates and redo, and the pre-flight checks (clock, devices); and
EnrollAbort of an unknown enrolment. The test machine has no fingerprint
reader or signature pad attached, so the device check refuses."""
import datetime

from harness import DaemonTest, main
from students import CLASS, Student, birth_aged, csv_of, nik_for

CAMERA = "camera.port=ptpip:127.0.0.1:15740:15741"


class EnrollBegin(DaemonTest):
    def ready(self, sets=(CAMERA,), extra=()):
        self.d.start(sets=list(sets))
        letter = self.keys.letter("st.jws", extra=extra)
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("students", "import", "-", stdin=csv_of(CLASS)), 0)

    def begin(self, **params):
        return self.d.call("EnrollBegin", params)

    def test_enroll_begin_needs_an_open_session(self):
        self.ready()
        self.assertRefused(self.begin(nik=CLASS[0].nik), "session.not-open")

    def test_enroll_begin_checks_the_student(self):
        self.ready()
        self.assertCli(self.d.cli("session", "open"), 0)
        p = self.assertRefused(self.begin(nik="1571011308090000"), "enroll.nik")
        self.assertEqual(p["args"]["nik"], "157101******0000")

        stranger = Student("Tamu Baru", "P", 17, 77)
        p = self.assertRefused(self.begin(nik=stranger.nik), "enroll.not-listed")
        self.assertEqual(p["args"], {"nik": stranger.nik[:6] + "******" + stranger.nik[-4:]})
        wrong = (stranger.birth + datetime.timedelta(days=1)).isoformat()
        self.assertRefused(self.begin(nik=stranger.nik, nama="Tamu Baru", jenis_kelamin="P",
                                      tanggal_lahir=wrong), "enroll.mismatch")
        self.assertRefused(self.begin(nik=stranger.nik, nama="Tamu Baru", jenis_kelamin="L",
                                      tanggal_lahir=stranger.birth.isoformat()),
                           "enroll.mismatch")
        young = birth_aged(14)
        p = self.assertRefused(self.begin(nik=nik_for(young, "L", 78), nama="Adik",
                                          jenis_kelamin="L", tanggal_lahir=young.isoformat()),
                               "enroll.too-young")
        self.assertEqual(p["args"]["age"], "14")
        self.assertEqual(p["args"]["min_age"], "16")

        self.assertRefused(self.begin(nik=CLASS[0].nik, redo=True), "enroll.redo-reason")
        self.assertRefused(self.begin(nik=CLASS[0].nik, redo=True, reason="foto buram"),
                           "enroll.nothing-to-redo")
        # A student added on the spot whose fields agree passes to the
        # pre-flight checks, as a listed one does.
        p = self.assertRefused(self.begin(nik=stranger.nik, nama="Tamu Baru", jenis_kelamin="P",
                                          tanggal_lahir=stranger.birth.isoformat()),
                               "preflight.device")
        self.assertEqual(p["args"], {"device": "fingerprint"})
        self.assertRefused(self.begin(nik=CLASS[0].nik), "preflight.device")

    def test_enroll_begin_names_the_missing_camera(self):
        self.ready(sets=())
        self.assertCli(self.d.cli("session", "open"), 0)
        p = self.assertRefused(self.begin(nik=CLASS[1].nik), "preflight.device")
        self.assertEqual(p["args"], {"device": "camera"})
        p = self.d.call("VerifyAudit")["parameters"]
        self.assertTrue(p["ok"])

    def test_enroll_begin_refuses_a_clock_before_the_letter(self):
        tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
        self.ready(extra=("--tanggal", tomorrow))
        self.assertCli(self.d.cli("session", "open"), 0)
        p = self.assertRefused(self.begin(nik=CLASS[0].nik), "preflight.clock")
        self.assertEqual(p["args"]["known"], tomorrow)

    def test_enroll_abort_unknown(self):
        self.ready()
        self.assertCli(self.d.cli("session", "open"), 0)
        self.assertRefused(self.d.call("EnrollAbort", {"id": "0" * 36}), "enroll.unknown")


if __name__ == "__main__":
    main()
