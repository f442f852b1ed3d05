"""Enrolments on the emulated devices for the disk and clock tests.

Reuses tests/devices/enroll/test_enroll.py's testbed (retasd inside
umockdev-bed with the NB-1010 model and the Wacom pad, the virtual PTP/IP
camera beside it) with one finger a student, since the reader is not what
these tests are about. HAVE_BED is false when umockdev was not built; a
test class deriving from EnrolBase then skips itself in setUp.
"""
import os
import sys

HAVE_BED = "UMOCKDEV_BED" in os.environ
if HAVE_BED:
    sys.path.insert(0, os.environ["RD_ENROLL_DIR"])
    import test_enroll  # noqa: E402
    test_enroll.JARI = "1"
    _Base = test_enroll.Enrol
else:
    from harness import DaemonTest as _Base  # noqa: E402

SETS = ("fingerprint.quality_threshold=10", "fingerprint.retries=1")


class EnrolBase(_Base):
    test_enroll_class = None  # the enrolment test itself runs in suite devices

    def setUp(self):
        if not HAVE_BED:
            self.skipTest("umockdev is not built")
        super().setUp()

    def stream(self, c, method, params):
        """Calls with more, writing the signature when asked; the final reply."""
        c.send(method, params, more=True)
        while True:
            m = c.recv()
            if not m.get("continues"):
                return m
            if m["parameters"].get("stage") == "sign_now":
                self.d.events(os.path.join(test_enroll.WACOM, "one-stroke.events"))

    def capture(self, c, s):
        """A student through to the point of committing; the enrolment id."""
        r = c.call("EnrollBegin", {"nik": s.nik})
        self.assertNotIn("error", r, r)
        eid = r["parameters"]["id"]
        for method, params in (("CaptureFinger", {"id": eid, "position": 1}),
                               ("CapturePhoto", {"id": eid}),
                               ("CaptureSignature", {"id": eid})):
            r = self.stream(c, method, params)
            self.assertNotIn("error", r, f"{method}: {r}\n{self.d.read_log()}")
        return eid
