#!/usr/bin/env python3
"""The bash completions, sourced in a bash of their own with the built
programs first on PATH: commands and their later words complete from the
programs' own help, global options are skipped, and a program that is not
there completes nothing without an error.

usage: test_completion.py SOURCE_ROOT RETAS RETAS_HQ   (exit 77: no bash)"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SRC, RETAS, RETAS_HQ = sys.argv[1:4]
COMPLETIONS = os.path.join(SRC, "packaging", "bash-completion")


def complete(words, path=None):
    """COMPREPLY, sorted, for the command line words (the last is the word
    being completed)."""
    with tempfile.TemporaryDirectory() as tmp:
        # The programs under their installed names.
        for prog in (RETAS, RETAS_HQ):
            os.symlink(prog, os.path.join(tmp, os.path.basename(prog)))
        script = (f'. "{COMPLETIONS}/retas"; . "{COMPLETIONS}/retas-hq"\n'
                  'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()\n'
                  'f=$(complete -p "$1" | sed "s/.*-F \\([^ ]*\\) .*/\\1/")\n'
                  '"$f" && printf "%s\\n" "${COMPREPLY[@]}"\n')
        env = {"PATH": f"{path or tmp}:/usr/bin:/bin", "HOME": tmp, "LC_ALL": "C.UTF-8"}
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", *words],
                           capture_output=True, text=True, timeout=30, env=env, cwd=tmp)
        assert p.returncode == 0 and not p.stderr, p.stderr
        return sorted(w for w in p.stdout.split("\n") if w)


class Completion(unittest.TestCase):
    def test_completion_retas_first_word(self):
        # The first words of the commands `retas help` lists, read here
        # independently of the completion script.
        listing = subprocess.run([RETAS, "help"], capture_output=True,
                                 text=True, check=True, env={"LC_ALL": "C.UTF-8"}).stdout
        words = sorted({line.split()[0] for line in listing.split("Commands:\n")[1]
                        .split("\n\n")[0].splitlines() if line.strip()})
        self.assertIn("session", words)
        self.assertEqual(complete(["retas", ""]), words)

    def test_completion_retas_second_word(self):
        self.assertEqual(complete(["retas", "assignment", ""]), ["load", "show", "verify"])
        self.assertEqual(complete(["retas", "session", "c"]), ["close"])

    def test_completion_retas_skips_global_options(self):
        self.assertEqual(complete(["retas", "--socket", "/run/x.sock", "--json", "devices",
                                   "test", "f"]), ["fingerprint"])
        self.assertEqual(complete(["retas", "--j"]), ["--json"])

    def test_completion_retas_hq(self):
        self.assertEqual(complete(["retas-hq", "--dir", "/tmp", "surat-tugas", ""]),
                         ["draft", "export", "sign", "tanda-terima"])
        self.assertEqual(complete(["retas-hq", "iss"]), ["issuance"])
        # The longest name leaves one space before its summary.
        self.assertEqual(complete(["retas-hq", "surat-tugas", "tanda-terima", "--"]),
                         ["--help"])

    def test_completion_program_missing(self):
        with tempfile.TemporaryDirectory() as empty:
            self.assertEqual(complete(["retas", ""], path=empty), [])


if __name__ == "__main__":
    if not shutil.which("bash"):
        print("SKIP: bash is not installed")
        sys.exit(77)
    unittest.main(argv=sys.argv[:1], verbosity=2)
