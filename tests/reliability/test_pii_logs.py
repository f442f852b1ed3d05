#!/usr/bin/env python3
"""No secret and no personal data in the logs of a whole RETAS day.

Runs tests/demo/demo.py (head office issues the letter, the van logs in,
imports the class, enrols five students on the emulated devices, syncs)
with every program at log level debug, then reads retasd's and retas-hq's
logs and looks for every student's NIK and name, every officer's PIN, the
staff tokens, and the van's and head office's secret keys in the forms a
careless log line would show them (the key file's base64url, standard
base64 and hex of the raw key, upper and lower case). Any hit fails, naming
the log, the line and what leaked.

    test_pii_logs.py BUILD_DIR

RETAS_PII_KEEP=1 keeps the day's folder (build/demo/<time>) to look at.
Skipped (77) when the demo's emulated devices cannot run here (not root,
no umockdev).
"""
import base64
import os
import re
import shutil
import sys
import unittest

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE, "tests", "demo"))
import demo  # noqa: E402  the day and its people, from one place

BUILD = None


def students():
    rows = demo.STUDENTS.strip().splitlines()[1:]
    return [tuple(r.split(";")[:2]) for r in rows]


def key_forms(path):
    """The ways a log line could show the secret key in a key file (one
    base64url key and a newline)."""
    with open(path, encoding="ascii") as f:
        text = f.read().strip()
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    std = base64.b64encode(raw).decode()
    # A 64-byte Ed25519 secret key starts with this seed: its encodings
    # share the first 40 characters (30 bytes) with the seed's.
    return {text, text[:40], std[:40], raw.hex(), raw.hex().upper()}


class PiiLogs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.day = demo.Demo(BUILD)
        try:
            cls.day.main()
        except SystemExit as e:
            raise AssertionError(f"the demo day failed: {e}") from None

    @classmethod
    def tearDownClass(cls):
        if not os.environ.get("RETAS_PII_KEEP"):
            shutil.rmtree(cls.day.out, ignore_errors=True)

    def needles(self):
        d = self.day
        out = {}
        for nik, nama in students():
            out[nik] = f"a student's NIK ({nama})"
            out[nama] = "a student's name"
        for _, nama, pin in demo.PETUGAS:
            out[pin] = f"the PIN of {nama}"
        for role, token in d.tokens.items():
            out[token] = f"the {role}'s staff token"
        for path, what in ((os.path.join(d.state, "device.key"), "the van's device key"),
                           (os.path.join(d.hqdir, "keys", "sign.key"), "head office's sign key"),
                           (os.path.join(d.hqdir, "keys", "seal.key"), "head office's seal key")):
            for form in key_forms(path):
                out[form] = what
        return out

    def logs(self):
        names = sorted(f for f in os.listdir(self.day.out)
                       if f.endswith(".log") and (f.startswith("retasd") or f.startswith("retas-hq")))
        self.assertIn("retasd.log", names)
        self.assertIn("retas-hq.log", names)
        return names

    def test_pii_logs_none_in_a_whole_day(self):
        needles = self.needles()
        # Digits only count as a hit on their own, not inside a longer number.
        pats = [(re.compile(r"(?<![0-9])" + re.escape(n) + r"(?![0-9])"), n, what)
                for n, what in needles.items()]
        hits, lines = [], 0
        for name in self.logs():
            with open(os.path.join(self.day.out, name), encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    lines += 1
                    for pat, n, what in pats:
                        if pat.search(line):
                            hits.append(f"{name}:{no}: {what} ({n!r}): {line.strip()[:200]}")
        # The logs were at debug level and the day did happen.
        self.assertGreater(lines, 50)
        self.assertEqual(hits, [], "\n".join(hits))

    def test_pii_logs_the_day_is_in_the_logs(self):
        # Logs that say nothing would pass the search above: the five
        # enrolments and their upload are there, by their ids and counts.
        with open(os.path.join(self.day.out, "retasd.log"), errors="replace") as f:
            van = f.read()
        self.assertEqual(van.count("committed as record"), len(demo.ENROL))
        self.assertIn("<7>", van)  # debug lines were on
        hq = ""
        for name in self.logs():
            if name.startswith("retas-hq"):
                with open(os.path.join(self.day.out, name), errors="replace") as f:
                    hq += f.read()
        self.assertIn(f"{len(demo.ENROL)} stored, 0 already received", hq)


def main():
    global BUILD
    if len(sys.argv) != 2:
        print("usage: test_pii_logs.py BUILD_DIR", file=sys.stderr)
        return 2
    BUILD = os.path.abspath(sys.argv[1])
    bed = os.path.join(BUILD, "tests", "devices", "enroll", "umockdev-bed")
    if os.geteuid() != 0 or not os.access(bed, os.X_OK):
        print("skipped: the demo's emulated devices need root and umockdev")
        return 77
    os.environ["RETAS_LOG_LEVEL"] = "debug"
    # In a sanitizer build the testbed preloads umockdev ahead of the ASan
    # runtime (as tests/devices/enroll does).
    old = os.environ.get("ASAN_OPTIONS", "")
    os.environ["ASAN_OPTIONS"] = (old + ":" if old else "") + "verify_asan_link_order=0"
    prog = unittest.main(argv=[sys.argv[0], "-v"], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
