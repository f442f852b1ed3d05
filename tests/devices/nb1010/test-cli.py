#!/usr/bin/env python3
"""The officer's commands against the emulated NB-1010-U.

usage: test-cli.py CASE FIXTURE_DIR   (the retas binary comes from $RETAS_CLI)

Each case runs `retas` under `umockdev-run` with the model's device and
happy-path capture and checks exit status, output and, for --save, that the
PNG holds exactly the model's pixels (decoded here with the standard library,
independently of the driver's libpng code). Exits 77 (skipped) when
umockdev-run is missing or cannot start a program on this machine.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SYSFS = "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2"
W, H = 256, 180
SKIP = 77


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def run_retas(fixtures, args, tmp, device="nb1010.umockdev", pcap="happy.pcap"):
    """Runs retas ARGS in the testbed; returns (status, stdout, stderr)."""
    if not shutil.which("umockdev-run"):
        print("SKIP: umockdev-run is not installed", file=sys.stderr)
        sys.exit(SKIP)
    mark = os.path.join(tmp, "started")
    env = dict(os.environ)
    old = env.get("ASAN_OPTIONS", "")
    # umockdev preloads its library ahead of the sanitizer runtime
    env["ASAN_OPTIONS"] = (old + ":" if old else "") + "verify_asan_link_order=0"
    cmd = ["umockdev-run", "-d", os.path.join(fixtures, device)]
    if pcap:
        cmd += ["-p", f"{SYSFS}={os.path.join(fixtures, pcap)}"]
    cmd += ["--", "sh", "-c", 'touch "$0" && exec "$@"', mark, env["RETAS_CLI"]] + args
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    if not os.path.exists(mark):
        print(f"SKIP: umockdev-run could not start a program here: {p.stderr}",
              file=sys.stderr)
        sys.exit(SKIP)
    os.unlink(mark)
    sys.stderr.write(p.stderr)
    return p.returncode, p.stdout, p.stderr


def png_pixels(path):
    """Decodes an 8-bit greyscale PNG with zlib alone: (width, height, bytes)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            fail(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = ihdr
    if (depth, colour, interlace) != (8, 0, 0):
        fail(f"PNG is depth {depth} colour {colour} interlace {interlace}")
    raw = zlib.decompress(idat)
    out = bytearray()
    prev = bytearray(w)
    for y in range(h):
        ftype, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xff
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xff
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xff
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 0xff
            elif ftype != 0:
                fail(f"unknown PNG filter {ftype}")
        out += line
        prev = line
    return w, h, bytes(out)


def case_saves_png(fixtures, tmp):
    out = os.path.join(tmp, "finger.png")
    status, stdout, _ = run_retas(fixtures, ["devices", "test", "fingerprint", "--save", out,
                                             "--device", "3:7", "--timeout", "10"], tmp)
    if status != 0:
        fail(f"exit status {status}")
    if "NEXT Biometrics NB-1010-U at USB 3:7, driver nb1010" not in stdout:
        fail(f"reader line missing: {stdout!r}")
    quality = [line for line in stdout.splitlines() if line.startswith("Quality: ")]
    if len(quality) != 1 or not quality[0].endswith("/100"):
        fail(f"quality line missing: {stdout!r}")
    q = int(quality[0][len("Quality: "):-len("/100")])
    if not 40 <= q <= 100:
        fail(f"quality {q} for a clean synthetic finger")
    if f"Saved {out} (256x180)" not in stdout:
        fail(f"saved line missing: {stdout!r}")
    w, h, pixels = png_pixels(out)
    want = open(os.path.join(fixtures, "finger-a.raw"), "rb").read()
    if (w, h) != (W, H):
        fail(f"PNG is {w}x{h}")
    if pixels != want:
        diff = sum(1 for a, b in zip(pixels, want) if a != b)
        fail(f"{diff} pixels differ from the model's image")


def case_lists_reader(fixtures, tmp):
    status, stdout, _ = run_retas(fixtures, ["devices"], tmp)
    if status != 0:
        fail(f"exit status {status}")
    lines = stdout.splitlines()
    if len(lines) != 2 or lines[1].split()[:1] != ["fingerprint"]:
        fail(f"unexpected listing: {stdout!r}")
    for word in ("NEXT Biometrics NB-1010-U", "nb1010", "usb 3:7", "NB1010-SYNTH-0042"):
        if word not in lines[1]:
            fail(f"'{word}' missing from {lines[1]!r}")
    status, stdout, _ = run_retas(fixtures, ["devices", "--json"], tmp)
    if status != 0:
        fail(f"--json exit status {status}")
    got = json.loads(stdout)
    want = [{"class": "fingerprint", "model": "NEXT Biometrics NB-1010-U", "driver": "nb1010",
             "location": "usb 3:7", "serial": "NB1010-SYNTH-0042"}]
    if got != want:
        fail(f"--json gave {got!r}")


def case_no_reader(fixtures, tmp):
    status, stdout, stderr = run_retas(fixtures, ["devices", "test", "fingerprint",
                                                  "--device", "3:9"], tmp)
    if status != 1:
        fail(f"exit status {status} for a missing reader")
    if "No supported fingerprint reader at USB bus 3 address 9." not in stderr:
        fail(f"stderr: {stderr!r}")
    status, stdout, stderr = run_retas(fixtures, ["devices"], tmp,
                                       device="keyboard.umockdev", pcap=None)
    if status != 0 or stdout != "No peripherals found.\n":
        fail(f"listing without a reader: {status} {stdout!r}")
    for bad in (["--device", "3"], ["--device", "0:7"], ["--timeout", "0"],
                ["--timeout", "601"], ["extra"]):
        status, _, stderr = run_retas(fixtures, ["devices", "test", "fingerprint"] + bad, tmp)
        if status != 2 or "usage: retas devices test fingerprint" not in stderr:
            fail(f"{bad}: exit status {status}, stderr {stderr!r}")


CASES = {
    "saves-png": case_saves_png,
    "lists-reader": case_lists_reader,
    "no-reader": case_no_reader,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with tempfile.TemporaryDirectory() as tmp:
        CASES[sys.argv[1]](sys.argv[2], tmp)
    print("ok")


if __name__ == "__main__":
    main()
