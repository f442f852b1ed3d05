#!/usr/bin/env python3
"""retasd's command line and configuration: --check-config names the key of
every error (file, line, --set), --set overrides the file, and
--print-device-key creates the van's key once and prints it."""
import os
import stat
import subprocess
import tempfile
import unittest

from harness import MKLETTER, RETASD, WAIT, main, run_ok


class ConfigCli(unittest.TestCase):
    def setUp(self):
        self.tmpdir = tempfile.TemporaryDirectory(prefix="retasd-conf-")
        self.tmp = self.tmpdir.name
        self.conf = os.path.join(self.tmp, "retasd.conf")
        self.state = os.path.join(self.tmp, "state")

    def tearDown(self):
        self.tmpdir.cleanup()

    def retasd(self, *args, conf=None):
        if conf is not None:
            with open(self.conf, "w") as f:
                f.write(conf)
        return subprocess.run([RETASD, "--config", self.conf, "--state-dir", self.state, *args],
                              capture_output=True, text=True, timeout=WAIT)

    def test_config_check_prints_effective_values(self):
        p = self.retasd("--check-config", "--set", "login.lockout=30",
                        conf="[login]\nlockout = 10\nmax_failures = 3\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[login]\nmax_failures = 3\nlockout = 30\n", p.stdout)
        self.assertIn(f"state_dir = {self.state}\n", p.stdout)
        self.assertIn("hq.sign_key is not set", p.stderr)

    def test_config_errors_name_the_key(self):
        cases = [
            ("[login]\nlockout = soon\n", "retasd.conf:2: login.lockout: expected a whole number "
                                         "of seconds from 1 to 604800, got 'soon'"),
            ("[login]\nmax_failures = 0\n", "login.max_failures: expected a whole number"),
            ("[hq]\nsign_key = abc\n", "retasd.conf:2: hq.sign_key: expected a base64url "
                                       "Ed25519 public key"),
            ("[daemon]\nsocket = relative.sock\n", "daemon.socket: expected an absolute path"),
            ("[daemon]\nlog_level = loud\n", "daemon.log_level: expected one of"),
            ("[login]\nlockuot = 5\n", "retasd.conf:2: unknown key 'login.lockuot'"),
            ("[nope]\nx = 1\n", "unknown key 'nope.x'"),
            ("x = 1\n", "retasd.conf:1: key 'x' is outside any [section]"),
            ("[login\n", "retasd.conf:1: not a [section] or key = value line"),
        ]
        for text, message in cases:
            p = self.retasd("--check-config", conf=text)
            self.assertEqual(p.returncode, 1, text)
            self.assertIn(message, p.stderr, text)
            # Running the daemon refuses the same way.
            p = self.retasd()
            self.assertEqual(p.returncode, 1, text)
            self.assertIn(message, p.stderr, text)

    def test_config_set_errors(self):
        p = self.retasd("--check-config", "--set", "login.lockout", conf="")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--set expects SECTION.KEY=VALUE, got 'login.lockout'", p.stderr)
        p = self.retasd("--check-config", "--set", "clock.offset=1.5", conf="")
        self.assertIn("clock.offset: expected a whole number of seconds", p.stderr)

    def test_config_missing_file(self):
        p = subprocess.run([RETASD, "--config", os.path.join(self.tmp, "none.conf"),
                            "--check-config"], capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 1)
        self.assertIn("none.conf: cannot read: No such file or directory", p.stderr)

    def test_config_print_device_key(self):
        p = self.retasd("--print-device-key", conf="")
        self.assertEqual(p.returncode, 0, p.stderr)
        key = p.stdout.strip()
        self.assertRegex(key, r"^[A-Za-z0-9_-]{43}$")
        path = os.path.join(self.state, "device.key")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.state).st_mode), 0o700)
        # Printed again, the same key: it is created once.
        self.assertEqual(self.retasd("--print-device-key").stdout.strip(), key)
        # A letter made for that key is for this van (the tool accepts it).
        hq = os.path.join(self.tmp, "hq.key")
        run_ok([MKLETTER, "--sign-key", hq])
        run_ok([MKLETTER, "--sign-key", hq, "--device-key", key, "--seal-keypair",
                os.path.join(self.tmp, "seal.key"), "--petugas", "198703152010011002:A:1",
                "-o", os.path.join(self.tmp, "l.jws")])

    def test_config_packaged_example_is_valid(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "retasd.conf")
        p = subprocess.run([RETASD, "--config", example, "--check-config"],
                           capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("max_failures = 5\n", p.stdout)

    def test_config_usage(self):
        p = subprocess.run([RETASD, "--bogus"], capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([RETASD, "extra"], capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unexpected argument 'extra'", p.stderr)


if __name__ == "__main__":
    main()
