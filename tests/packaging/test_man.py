#!/usr/bin/env python3
"""The manual pages cannot drift silently: retas(1) names every command
`retas help` lists (the cli_commands table), retas-hq(8) every command of
`retas-hq --help`, and retasd.conf(5) every key of daemon/conf.c under its
section; when scdoc is installed every page builds.

usage: test_man.py SOURCE_ROOT BUILD_ROOT RETAS RETAS_HQ"""
import os
import re
import subprocess
import sys
import unittest

SRC, BUILD, RETAS, RETAS_HQ = sys.argv[1:5]
MAN = os.path.join(SRC, "man")


def help_commands(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    # A name is lower-case words; a long one leaves one space before the
    # summary, which is a sentence.
    return [re.match(r"[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*(?=\s|$)", line.strip()).group(0)
            for line in block.splitlines() if line.strip()]


def documented(scd, name):
    # A command's entry starts a line with its words in bold.
    return re.search(r"^\*" + re.escape(name) + r"\*", scd, re.M) is not None


class ManPages(unittest.TestCase):
    def read(self, page):
        return open(os.path.join(MAN, page + ".scd")).read()

    def test_man_retas_names_every_command(self):
        cmds = help_commands([RETAS, "help"])
        self.assertIn("devices test fingerprint", cmds)
        scd = self.read("retas.1")
        self.assertEqual([c for c in cmds if not documented(scd, c)], [])
        self.assertIn("RETAS_SOCKET", scd)
        for code in ("0", "1", "2", "3"):
            self.assertRegex(scd, re.compile(r"# EXIT STATUS[\s\S]*^\*" + code + r"\*$", re.M))

    def test_man_retas_hq_names_every_command(self):
        cmds = help_commands([RETAS_HQ, "--help"])
        self.assertIn("surat-tugas tanda-terima", cmds)
        scd = self.read("retas-hq.8")
        self.assertEqual([c for c in cmds if not documented(scd, c)], [])

    def test_man_retasd_conf_names_every_key(self):
        src = open(os.path.join(SRC, "daemon", "conf.c")).read()
        table = src[src.index("keys[] = {"):]
        keys = re.findall(r'"(\w+)\.(\w+)"', table[:table.index("};")])
        self.assertGreater(len(keys), 10)
        scd = self.read("retasd.conf.5")
        sections = dict(re.findall(r"^# SECTION \[(\w+)\]\n([\s\S]*?)(?=^# |\Z)", scd, re.M))
        missing = [f"{s}.{k}" for s, k in keys
                   if not re.search(r"^\*" + k + r"\* =", sections.get(s, ""), re.M)]
        self.assertEqual(missing, [])

    def test_man_retasd_names_modes_and_signals(self):
        scd = self.read("retasd.8")
        usage = subprocess.run([os.environ["RETASD"], "--help"], capture_output=True,
                               text=True, timeout=30).stdout
        for opt in sorted(set(re.findall(r"--[a-z-]+", usage))):
            self.assertIn(f"*{opt}*", scd, opt)
        for sig in ("SIGTERM", "SIGINT", "SIGHUP"):
            self.assertIn(sig, scd)

    def test_man_pages_built(self):
        built = os.path.join(BUILD, "man")
        if not os.path.exists(os.path.join(built, "retas.1")):
            self.skipTest("scdoc is not installed: pages not built")
        for page in ("retas.1", "retasd.8", "retasd.conf.5", "retas-hq.8"):
            text = open(os.path.join(built, page)).read()
            self.assertIn(".TH", text, page)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
