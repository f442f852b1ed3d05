#!/usr/bin/env python3
"""The systemd units as `meson install` puts them: each ExecStart= names a
program this build installs (and retasd's --config the file it installs),
and `systemd-analyze verify` accepts both units, with their Documentation=
manual pages looked up among the installed ones when scdoc built them.
retasd's unit keeps other users away from its socket: it runs as group
retas and its runtime directory (where the socket lies) has no bits for
others.

usage: test_units.py BUILD_ROOT MESON [MESON...]   (exit 77: no systemd-analyze)"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

UNITS = ("retasd.service", "retas-hq.service")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def socket_dir_closed(text):
    """The socket is 0660 and its group is retasd's (daemon/varlink.c);
    /run/retas around it must not open it to others either."""
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    if settings.get("Group") != "retas":
        fail(f"retasd.service: Group={settings.get('Group')}, expected retas")
    mode = settings.get("RuntimeDirectoryMode")
    if mode is None or int(mode, 8) & 0o007:
        fail(f"retasd.service: RuntimeDirectoryMode={mode} lets others reach the socket")
    umask = settings.get("UMask")
    if umask is None or int(umask, 8) & 0o007 != 0o007:
        fail(f"retasd.service: UMask={umask} leaves files open to others")


def main():
    build, meson = sys.argv[1], sys.argv[2:]
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("SKIP: systemd-analyze is not installed")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="retas-units-") as tmp:
        dest = os.path.join(tmp, "dest")
        p = subprocess.run([*meson, "install", "-C", build, "--no-rebuild", "--quiet",
                            "--destdir", dest], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            fail(f"meson install: {p.stdout}{p.stderr}")
        found = {}
        for root, _dirs, files in os.walk(dest):
            for f in files:
                if f in UNITS:
                    found[f] = os.path.join(root, f)
        if sorted(found) != sorted(UNITS):
            fail(f"installed units {sorted(found)}, expected {sorted(UNITS)}")
        mandirs = [os.path.join(r, d) for r, ds, _ in os.walk(dest) for d in ds if d == "man"]
        checked = []
        for name, path in sorted(found.items()):
            text = open(path).read()
            m = re.search(r"^ExecStart=(\S+)(.*)$", text, re.M)
            if not m:
                fail(f"{name}: no ExecStart=")
            prog, args = m.group(1), m.group(2)
            if not os.path.isabs(prog):
                fail(f"{name}: ExecStart= {prog} is not absolute")
            if not os.access(dest + prog, os.X_OK):
                fail(f"{name}: ExecStart= {prog} is not what meson installs "
                     f"({dest + prog} missing)")
            cm = re.search(r"--config (\S+)", args)
            if cm and not os.path.isfile(dest + cm.group(1)):
                fail(f"{name}: --config {cm.group(1)} is not installed")
            if name == "retasd.service":
                socket_dir_closed(text)
            # The copy verify reads runs the installed program from DESTDIR.
            copy = os.path.join(tmp, name)
            with open(copy, "w") as f:
                f.write(text.replace(f"ExecStart={prog}", f"ExecStart={dest + prog}", 1))
            checked.append(copy)
        env = dict(os.environ)
        cmd = [analyze, "verify"]
        if mandirs:
            env["MANPATH"] = ":".join(mandirs)
        else:
            print("note: no manual pages installed (scdoc missing): --man=no")
            cmd.append("--man=no")
        p = subprocess.run(cmd + checked, capture_output=True, text=True, timeout=120, env=env)
        out = (p.stdout + p.stderr).strip()
        # Unknown or misspelt settings are only warnings: any output fails.
        if p.returncode != 0 or out:
            fail(f"systemd-analyze verify (exit {p.returncode}):\n{out}")
        print(f"ok: {', '.join(sorted(found))} verified against the installed programs"
              f"{' and manual pages' if mandirs else ''}")


if __name__ == "__main__":
    main()
