#!/usr/bin/env python3
"""sysusers.d and tmpfiles.d applied to an empty root: the users and groups
the units run as exist, and every directory is created with its owner.
Creating owned directories needs root.

usage: test_users.py SOURCE_ROOT BUILD_ROOT   (exit 77: not root, or no systemd tools)"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} (exit {p.returncode}): {p.stdout}{p.stderr}")


def main():
    src, build = sys.argv[1], sys.argv[2]
    sysusers, tmpfiles = shutil.which("systemd-sysusers"), shutil.which("systemd-tmpfiles")
    if not sysusers or not tmpfiles:
        print("SKIP: systemd-sysusers or systemd-tmpfiles is not installed")
        sys.exit(77)
    if os.geteuid() != 0:
        print("SKIP: creating directories owned by other users needs root")
        sys.exit(77)
    conf = os.path.join(src, "packaging", "systemd")
    conf_users = [os.path.join(conf, f"{n}.sysusers") for n in ("retas", "retas-hq")]
    conf_tmp = [os.path.join(conf, f"{n}.tmpfiles") for n in ("retas", "retas-hq")]
    with tempfile.TemporaryDirectory(prefix="retas-users-") as root:
        os.mkdir(os.path.join(root, "etc"))
        run([sysusers, f"--root={root}", *conf_users])
        users = {l.split(":")[0]: l.split(":") for l in open(os.path.join(root, "etc/passwd"))}
        groups = {l.split(":")[0] for l in open(os.path.join(root, "etc/group"))}
        for unit in ("retasd.service", "retas-hq.service"):
            text = open(os.path.join(build, "packaging", unit)).read()
            user = re.search(r"^User=(\S+)$", text, re.M).group(1)
            group = re.search(r"^Group=(\S+)$", text, re.M).group(1)
            if user not in users or group not in groups:
                fail(f"{unit}: User={user} Group={group} not created by sysusers.d")
            state = re.search(r"^StateDirectory=(\S+)$", text, re.M).group(1)
            if users[user][5] != f"/var/lib/{state}":
                fail(f"{unit}: {user}'s home {users[user][5]} is not /var/lib/{state}")
        run([tmpfiles, f"--root={root}", "--create", *conf_tmp])
        expect = {"var/lib/retas": ("retas", 0o700), "run/retas": ("retas", 0o750),
                  "var/lib/retas-hq": ("retas-hq", 0o700), "etc/retas": ("root", 0o755)}
        for path, (owner, mode) in expect.items():
            st = os.stat(os.path.join(root, path))
            uid = 0 if owner == "root" else int(users[owner][2])
            if st.st_uid != uid or stat.S_IMODE(st.st_mode) != mode:
                fail(f"/{path}: uid {st.st_uid} mode {stat.S_IMODE(st.st_mode):o}, "
                     f"expected {owner} {mode:o}")
        print("ok: users, groups and directories")


if __name__ == "__main__":
    main()
