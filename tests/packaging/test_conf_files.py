#!/usr/bin/env python3
"""The packaged configuration files: each lists every key its program
accepts (read from the source), commented out; the file as shipped is
valid, and so is the file with every key uncommented, so each value shown
is one the program takes.

usage: test_conf_files.py SOURCE_ROOT RETASD RETAS_HQ"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

SRC, RETASD, RETAS_HQ = sys.argv[1:4]
WAIT = 60


def commented_keys(path):
    """{section.key: value} of the '#key = value' lines, in file order."""
    keys, section = {}, None
    for line in open(path):
        m = re.match(r"^\[(\w+)\]\s*$", line)
        if m:
            section = m.group(1)
        m = re.match(r"^#(\w+) =(.*)$", line)
        if m:
            keys[f"{section}.{m.group(1)}"] = m.group(2).strip()
    return keys


def uncomment(path, out, keep_empty=True):
    with open(path) as f, open(out, "w") as o:
        for line in f:
            m = re.match(r"^#(\w+) =(.*)$", line)
            if m and (keep_empty or m.group(2).strip()):
                line = line[1:]
            o.write(line)


class RetasdConf(unittest.TestCase):
    conf = os.path.join(SRC, "packaging", "retasd.conf")

    def check(self, path):
        return subprocess.run([RETASD, "--config", path, "--state-dir", "/nonexistent",
                               "--check-config"], capture_output=True, text=True, timeout=WAIT)

    def test_conf_retasd_lists_every_key(self):
        src = open(os.path.join(SRC, "daemon", "conf.c")).read()
        table = src[src.index("keys[] = {"):]
        table = table[:table.index("};")]
        known = re.findall(r'"(\w+\.\w+)"', table)
        self.assertGreater(len(known), 10)
        self.assertEqual(sorted(commented_keys(self.conf)), sorted(known))

    def test_conf_retasd_shipped_is_valid(self):
        p = self.check(self.conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[login]\nmax_failures = 5\nlockout = 300\n", p.stdout)

    def test_conf_retasd_uncommented_is_valid(self):
        # Keys without a default (empty values) stay commented: empty is not
        # a value retasd takes.
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "retasd.conf")
            uncomment(self.conf, out, keep_empty=False)
            p = self.check(out)
            self.assertEqual(p.returncode, 0, p.stderr)
            for key, value in commented_keys(self.conf).items():
                if value and key != "daemon.state_dir":
                    self.assertIn(f"\n{key.split('.')[1]} = {value}\n", p.stdout, key)


class RetasHqConf(unittest.TestCase):
    conf = os.path.join(SRC, "packaging", "retas-hq.conf")

    def hq_with(self, text):
        """Runs a command that opens a head-office directory holding text as
        its configuration."""
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "hq")
            p = subprocess.run([RETAS_HQ, "init", d], capture_output=True, text=True,
                               timeout=WAIT)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(d, "retas-hq.conf"), "w") as f:
                f.write(text)
            return subprocess.run([RETAS_HQ, "--dir", d, "report", "pull"],
                                  capture_output=True, text=True, timeout=WAIT)

    def test_conf_hq_lists_every_key(self):
        src = open(os.path.join(SRC, "hq", "hq-ctx.c")).read()
        body = src[src.index("static int on_value("):]
        body = body[:body.index("\n}\n")]
        known, section = [], None
        for m in re.finditer(r'streq\((section|name), "(\w+)"\)', body):
            if m.group(1) == "section":
                section = m.group(2)
            else:
                known.append(f"{section}.{m.group(2)}")
        self.assertGreater(len(known), 8)
        self.assertEqual(sorted(commented_keys(self.conf)), sorted(known))

    def test_conf_hq_shipped_is_valid(self):
        p = self.hq_with(open(self.conf).read())
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_conf_hq_uncommented_is_valid(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "c")
            uncomment(self.conf, out)
            p = self.hq_with(open(out).read())
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_conf_hq_bad_key_is_refused(self):
        # Shows the commands above do read the file.
        p = self.hq_with("[server]\nthreads = 0\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn("server.threads", p.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
