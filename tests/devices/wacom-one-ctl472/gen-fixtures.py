#!/usr/bin/env python3
"""Writes the umockdev fixtures of the emulated signature pad, one set per scenario.

The pad is a Wacom One by Wacom S (CTL-472, USB 056a:037a) as the kernel's wacom driver
exposes it: features { "Wacom One by Wacom S", 15200, 9500, 2047, 63, BAMBOO_PEN,
WACOM_INTUOS_RES, WACOM_INTUOS_RES } in drivers/hid/wacom_wac.c, i.e. ABS_X 0..15200 and
ABS_Y 0..9500 at 100 units/mm (a 152 x 95 mm surface), ABS_PRESSURE 0..2047, ABS_DISTANCE
0..63, keys BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOUCH, BTN_STYLUS, BTN_STYLUS2 and
INPUT_PROP_POINTER. Like that driver it reports zeros for the axes when the pen leaves
proximity; like the input core it delivers only values that changed.

Per scenario NAME it writes into OUTDIR:
  NAME.umockdev  the sysfs/udev description (umockdev-run -d)
  NAME.ioctl     the EVIOC* answers libevdev asks for (umockdev-run -i), in the order
                 libevdev 1.13's libevdev_set_fd() asks them. umockdev answers an ioctl
                 with the next matching line after the one it answered last, so a second
                 EVIOCGKEY/EVIOCGABS block gives the state libevdev re-reads after a
                 SYN_DROPPED. Sizes must be exactly libevdev's buffers on x86-64.
  NAME.events    evemu events (umockdev-run -e). umockdev 0.17 reads the microseconds of
                 a timestamp as octal when they have leading zeros, so they are written
                 unpadded ("100.5000" is 100 s + 5000 us).
  NAME.expect    what the driver must report: see test-sig-wacom.c.

Usage: gen-fixtures.py OUTDIR
"""

import math
import os
import struct
import sys

EV_SYN, EV_KEY, EV_ABS = 0, 1, 3
SYN_REPORT, SYN_DROPPED = 0, 3
ABS_X, ABS_Y, ABS_PRESSURE, ABS_DISTANCE = 0x00, 0x01, 0x18, 0x19
BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOUCH, BTN_STYLUS, BTN_STYLUS2 = 0x140, 0x141, 0x14a, 0x14b, 0x14c
INPUT_PROP_POINTER = 0

X_MAX, Y_MAX, P_MAX, D_MAX, RES = 15200, 9500, 2047, 63, 100
FRAME_US = 5000  # 200 reports a second
T_START_US = 100_000_000  # kernel timestamps of the first event: 100 s

FLAG_STROKE_START, FLAG_RESYNC = 1, 2

EVENT_SYSPATH = ("/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/"
                 "0003:056A:037A.0001/input/input7/event5")


def umockdev_tablet():
    usb = "/devices/pci0000:00/0000:00:14.0/usb1/1-1"
    return f"""P: {EVENT_SYSPATH}
N: input/event5
E: DEVNAME=/dev/input/event5
E: ID_BUS=usb
E: ID_INPUT=1
E: ID_INPUT_TABLET=1
E: ID_MODEL=CTL-472
E: ID_MODEL_ID=037a
E: ID_PATH=pci-0000:00:14.0-usb-0:1:1.0
E: ID_PATH_TAG=pci-0000_00_14_0-usb-0_1_1_0
E: ID_SERIAL=Wacom_Co._Ltd._CTL-472_8BH00U1000000
E: ID_SERIAL_SHORT=8BH00U1000000
E: ID_VENDOR=Wacom_Co._Ltd.
E: ID_VENDOR_ID=056a
E: LIBINPUT_DEVICE_GROUP=3/56a/37a:usb-0000:00:14.0-1
E: MAJOR=13
E: MINOR=69
E: SUBSYSTEM=input
A: dev=13:69

P: {usb}/1-1:1.0/0003:056A:037A.0001/input/input7
E: ABS=3000003
E: EV=b
E: ID_INPUT=1
E: ID_INPUT_TABLET=1
E: KEY=1c03 0 0 0 0 0
E: MODALIAS=input:b0003v056Ap037Ae0110-e0,1,3,k140,141,14A,14B,14C,ra0,1,18,19,mlsfw
E: NAME="Wacom One by Wacom S Pen"
E: PHYS="usb-0000:00:14.0-1/input0"
E: PRODUCT=3/56a/37a/110
E: PROP=1
E: SUBSYSTEM=input
A: name=Wacom One by Wacom S Pen
A: phys=usb-0000:00:14.0-1/input0
A: properties=1

P: {usb}/1-1:1.0/0003:056A:037A.0001
E: DRIVER=wacom
E: HID_ID=0003:0000056A:0000037A
E: HID_NAME=Wacom Co.,Ltd. CTL-472
E: SUBSYSTEM=hid

P: {usb}/1-1:1.0
E: DEVTYPE=usb_interface
E: DRIVER=usbhid
E: SUBSYSTEM=usb
A: bInterfaceClass=03

P: {usb}
E: DEVTYPE=usb_device
E: ID_MODEL=CTL-472
E: ID_VENDOR=Wacom_Co._Ltd.
E: SUBSYSTEM=usb
A: idProduct=037a
A: idVendor=056a
A: manufacturer=Wacom Co.,Ltd.
A: product=CTL-472

"""


def umockdev_keyboard_only():
    base = "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/0003:046D:C31C.0002/input/input3"
    return f"""P: {base}/event3
N: input/event3
E: DEVNAME=/dev/input/event3
E: ID_INPUT=1
E: ID_INPUT_KEY=1
E: ID_INPUT_KEYBOARD=1
E: ID_VENDOR_ID=046d
E: MAJOR=13
E: MINOR=67
E: SUBSYSTEM=input
A: dev=13:67

P: {base}
E: EV=120013
E: NAME="Logitech USB Keyboard"
E: SUBSYSTEM=input
A: name=Logitech USB Keyboard

"""


def bits(nbytes, *idx):
    b = bytearray(nbytes)
    for i in idx:
        b[i // 8] |= 1 << (i % 8)
    return bytes(b)


def hexs(b):
    return b.hex().upper()


def absinfo(value, lo, hi, fuzz, flat, res):
    return hexs(struct.pack("<iiiiii", value, lo, hi, fuzz, flat, res))


def ioctl_file(resolution=RES, resync=None):
    """resync: the pen state (dict) libevdev reads back after a SYN_DROPPED."""
    name = b"Wacom One by Wacom S Pen"
    phys = b"usb-0000:00:14.0-1/input0"
    keys = (BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOUCH, BTN_STYLUS, BTN_STYLUS2)
    lines = [
        "# Wacom One by Wacom S (CTL-472) pen, as libevdev 1.13 reads it on x86-64",
        "EVIOCGBIT(0) 8 " + hexs(bits(8, EV_SYN, EV_KEY, EV_ABS)),
        "EVIOCGNAME(0) %d %s" % (len(name) + 1, hexs(name.ljust(255, b"\0"))),
        "EVIOCGPHYS(0) %d %s" % (len(phys) + 1, hexs(phys.ljust(255, b"\0"))),
        "EVIOCGUNIQ(0) 1 " + hexs(bytes(255)),
        "EVIOCGID 0 " + hexs(struct.pack("<HHHH", 3, 0x056A, 0x037A, 0x0110)),
        "EVIOCGVERSION 0 " + hexs(struct.pack("<i", 0x010001)),
        "EVIOCGPROP(0) 8 " + hexs(bits(8, INPUT_PROP_POINTER)),
        "EVIOCGBIT(2) 8 " + hexs(bits(8)),
        "EVIOCGBIT(3) 8 " + hexs(bits(8, ABS_X, ABS_Y, ABS_PRESSURE, ABS_DISTANCE)),
        "EVIOCGBIT(17) 8 " + hexs(bits(8)),
        "EVIOCGBIT(1) 96 " + hexs(bits(96, *keys)),
        "EVIOCGBIT(5) 8 " + hexs(bits(8)),
        "EVIOCGBIT(4) 8 " + hexs(bits(8)),
        "EVIOCGBIT(21) 16 " + hexs(bits(16)),
        "EVIOCGBIT(18) 8 " + hexs(bits(8)),
        "EVIOCGKEY(0) 96 " + hexs(bits(96)),
        "EVIOCGLED(0) 8 " + hexs(bits(8)),
        "EVIOCGSW(0) 8 " + hexs(bits(8)),
        "EVIOCGABS(0) 0 " + absinfo(0, 0, X_MAX, 4, 0, resolution),
        "EVIOCGABS(1) 0 " + absinfo(0, 0, Y_MAX, 4, 0, resolution),
        "EVIOCGABS(24) 0 " + absinfo(0, 0, P_MAX, 0, 0, 0),
        "EVIOCGABS(25) 0 " + absinfo(0, 0, D_MAX, 0, 0, 0),
    ]
    if resync:
        down = [k for k, v in ((BTN_TOOL_PEN, resync["tool"]), (BTN_TOUCH, resync["touch"])) if v]
        lines += [
            "# the pen's state when libevdev resynchronises after SYN_DROPPED",
            "EVIOCGKEY(0) 96 " + hexs(bits(96, *down)),
            "EVIOCGABS(0) 0 " + absinfo(resync["x"], 0, X_MAX, 4, 0, resolution),
            "EVIOCGABS(1) 0 " + absinfo(resync["y"], 0, Y_MAX, 4, 0, resolution),
            "EVIOCGABS(24) 0 " + absinfo(resync["p"], 0, P_MAX, 0, 0, 0),
            "EVIOCGABS(25) 0 " + absinfo(resync["d"], 0, D_MAX, 0, 0, 0),
        ]
    return "\n".join(lines) + "\n"


class Pen:
    """Turns pen frames into evemu events (changes only) and expected samples."""

    def __init__(self):
        self.t = T_START_US
        self.state = {"tool": 0, "touch": 0, "x": 0, "y": 0, "p": 0, "d": 0}
        self.events = []
        self.frames = 0  # SYN_REPORTs the driver will read
        self.points = []  # (flags, t_us, x, y, p)
        self.was_down = False
        self.resync_pending = False

    def _event(self, typ, code, value):
        sec, usec = divmod(self.t, 1_000_000)
        self.events.append("E: %d.%d %04x %04x %d" % (sec, usec, typ, code, value))

    def _apply(self, new, emit):
        order = (("tool", EV_KEY, BTN_TOOL_PEN), ("x", EV_ABS, ABS_X), ("y", EV_ABS, ABS_Y),
                 ("p", EV_ABS, ABS_PRESSURE), ("d", EV_ABS, ABS_DISTANCE),
                 ("touch", EV_KEY, BTN_TOUCH))
        changed = False
        for key, typ, code in order:
            if key in new and new[key] != self.state[key]:
                self.state[key] = new[key]
                if emit:
                    self._event(typ, code, new[key])
                changed = True
        return changed

    def _sample(self, t_us):
        down = bool(self.state["tool"] and self.state["touch"])
        if down:
            flags = 0 if self.was_down else FLAG_STROKE_START
            if self.resync_pending:
                flags |= FLAG_RESYNC
                self.resync_pending = False
            s = self.state
            self.points.append((flags, t_us, s["x"], s["y"], s["p"]))
        self.was_down = down

    def frame(self, **new):
        """One report: the values that changed, then SYN_REPORT."""
        self.t += FRAME_US
        self._apply(new, emit=True)
        self._event(EV_SYN, SYN_REPORT, 0)
        self.frames += 1
        self._sample(self.t)

    def wait(self, us):
        self.t += us

    def drop(self, lost_frames, gap_us):
        """The kernel's buffer overflowed: SYN_DROPPED, lost_frames frames never
        delivered, the next frame gap_us later. libevdev re-reads the state (the
        second block of the ioctl file) and hands it out as one frame stamped with
        the SYN_DROPPED's time."""
        self.t += FRAME_US
        drop_t = self.t
        self._event(EV_SYN, SYN_DROPPED, 0)
        for new in lost_frames:
            self._apply(new, emit=False)
        self.frames += 1
        self.resync_pending = True
        self._sample(drop_t)
        self.t += gap_us
        return dict(self.state)

    def approach(self, x, y, hover=4):
        """Pen enters proximity above (x, y) and comes down."""
        for i in range(hover):
            self.frame(tool=1, x=x - 8 * (hover - i), y=y - 5 * (hover - i), d=40 - 8 * i)
        self.frame(x=x, y=y, d=0, p=0)

    def lift(self, hover=3, leave=True):
        self.frame(touch=0, p=0)
        x, y = self.state["x"], self.state["y"]
        for i in range(hover):
            self.frame(x=x + 6 * (i + 1), y=y - 4 * (i + 1), d=10 + 10 * i)
        if leave:
            # out of proximity: the wacom driver zeroes the axes
            self.frame(tool=0, x=0, y=0, p=0, d=0)

    def stroke(self, path, pressures):
        for i, ((x, y), p) in enumerate(zip(path, pressures)):
            if i == 0:
                self.frame(touch=1, p=p)
            else:
                self.frame(x=x, y=y, p=p)

    def evemu(self):
        head = ["# EVEMU 1.3",
                "# Wacom One by Wacom S Pen (056a:037a), generated by gen-fixtures.py",
                "# microseconds unpadded: umockdev 0.17 reads a leading zero as octal"]
        return "\n".join(head + self.events) + "\n"


def pressure_curve(n, peak=1400, floor=260):
    """Pressure of a hand: rises fast, wavers, falls off at the end."""
    out = []
    for i in range(n):
        u = i / max(1, n - 1)
        env = min(1.0, u * 8, (1 - u) * 6 + 0.15)
        out.append(int(floor + (peak - floor) * env * (0.85 + 0.15 * math.sin(i * 0.7))))
    return out


def loop_path(x0, y0, n, width=5200, r=700):
    """A cursive run of loops, like the body of a signature."""
    pts = []
    for i in range(n):
        u = i / (n - 1)
        a = u * 4 * 2 * math.pi
        pts.append((int(x0 + width * u + r * 0.6 * math.cos(a)), int(y0 + r * math.sin(a))))
    return pts


def line_path(x0, y0, x1, y1, n):
    return [(int(round(x0 + (x1 - x0) * i / (n - 1))), int(round(y0 + (y1 - y0) * i / (n - 1))))
            for i in range(n)]


def scenario_one_stroke():
    pen = Pen()
    path = loop_path(3000, 4000, 140)
    pen.approach(*path[0])
    pen.stroke(path, pressure_curve(len(path)))
    pen.lift()
    return pen, {"end": "idle", "result": "ok"}


def scenario_several_strokes():
    pen = Pen()
    a = loop_path(2500, 4200, 110, width=4200)
    pen.approach(*a[0])
    pen.stroke(a, pressure_curve(len(a)))
    pen.lift(leave=False)
    b = line_path(7600, 3000, 7400, 5600, 40)  # a down stroke, pen stayed near
    pen.frame(x=b[0][0], y=b[0][1], d=0)
    pen.stroke(b, pressure_curve(len(b), peak=1700))
    pen.lift()
    pen.wait(150_000)
    c = line_path(8300, 3300, 8500, 3350, 12)  # a quick tick after leaving proximity
    pen.approach(*c[0], hover=2)
    pen.stroke(c, pressure_curve(len(c), peak=900))
    pen.lift()
    return pen, {"end": "accept", "result": "ok"}


def scenario_varying_pressure():
    pen = Pen()
    # a straight line from 20 to 100 mm at y = 40 mm, pressed ever harder
    n = 161
    path = line_path(2000, 4000, 10000, 4000, n)
    pressures = [int(40 + (2000 - 40) * i / (n - 1)) for i in range(n)]
    pen.approach(*path[0])
    pen.stroke(path, pressures)
    pen.lift()
    return pen, {"end": "idle", "result": "ok", "pressure-check": "25.0 95.0"}


def scenario_syn_dropped():
    pen = Pen()
    path = loop_path(3000, 4500, 120)
    pres = pressure_curve(len(path))
    # umockdev replays from its own start, before the test process runs;
    # libevdev discards whatever is queued when it resynchronises, so the
    # pen first waits above the pad until the driver surely reads, and the
    # reports after the drop come a second later
    pen.frame(tool=1, x=path[0][0] - 400, y=path[0][1] - 300, d=63)
    pen.wait(2_500_000)
    pen.approach(*path[0])
    pen.stroke(path[:50], pres[:50])
    lost = [{"x": x, "y": y, "p": p} for (x, y), p in zip(path[50:62], pres[50:62])]
    state = pen.drop(lost, gap_us=1_000_000)
    for (x, y), p in zip(path[62:], pres[62:]):
        pen.frame(x=x, y=y, p=p)
    pen.lift()
    return pen, {"end": "idle", "result": "ok", "resync": state}


def scenario_no_ink():
    return Pen(), {"end": "accept-now", "result": "signature.empty"}


def scenario_hover_only():
    pen = Pen()
    pen.frame(tool=1, x=5000, y=5000, d=50)
    for i in range(30):
        pen.frame(x=5000 + 40 * i, y=5000 + 15 * i, d=50 - i)
    pen.frame(tool=0, x=0, y=0, d=0)
    return pen, {"end": "accept", "result": "signature.empty"}


def scenario_tap():
    pen = Pen()
    pen.approach(6000, 4000, hover=2)
    pen.frame(touch=1, p=500)
    pen.frame(x=6004, p=600)
    pen.frame(x=6008, p=400)
    pen.lift()
    return pen, {"end": "idle", "result": "signature.too_short"}


def scenario_clear_redo():
    pen = Pen()
    a = line_path(2000, 2000, 6000, 6000, 60)  # a slip of the pen, cleared
    pen.approach(*a[0])
    pen.stroke(a, pressure_curve(len(a)))
    pen.lift()
    clear_at = pen.frames
    first = len(pen.points)
    pen.wait(600_000)
    b = loop_path(3000, 4000, 130)
    pen.approach(*b[0])
    pen.stroke(b, pressure_curve(len(b)))
    pen.lift()
    pen.points = pen.points[first:]
    return pen, {"end": "idle", "result": "ok", "clear-at": clear_at}


def scenario_device_gone():
    pen = Pen()
    path = loop_path(3000, 4000, 140)
    pen.approach(*path[0])
    pen.stroke(path[:70], pressure_curve(len(path))[:70])
    # the cable is pulled here, mid-stroke
    return pen, {"end": "gone", "result": "signature.removed"}


SCENARIOS = {
    "one-stroke": scenario_one_stroke,
    "several-strokes": scenario_several_strokes,
    "varying-pressure": scenario_varying_pressure,
    "syn-dropped": scenario_syn_dropped,
    "no-ink": scenario_no_ink,
    "hover-only": scenario_hover_only,
    "tap": scenario_tap,
    "clear-redo": scenario_clear_redo,
    "device-gone": scenario_device_gone,
}


def write(outdir, name, suffix, text):
    with open(os.path.join(outdir, name + suffix), "w", encoding="ascii") as f:
        f.write(text)


def expect_text(name, pen, meta):
    lines = [f"# {name}: what the driver must report (gen-fixtures.py)",
             "open ok", f"end {meta['end']}", f"frames {pen.frames}", f"result {meta['result']}"]
    if "clear-at" in meta:
        lines.append(f"clear-at {meta['clear-at']}")
    if "pressure-check" in meta:
        lines.append(f"pressure-check {meta['pressure-check']}")
    t0 = pen.points[0][1] if pen.points else 0
    for flags, t_us, x, y, p in pen.points:
        lines.append(f"point {flags} {(t_us - t0) // 1000} {x} {y} {p}")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-fixtures.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, fn in SCENARIOS.items():
        pen, meta = fn()
        write(outdir, name, ".umockdev", umockdev_tablet())
        write(outdir, name, ".ioctl", ioctl_file(resync=meta.get("resync")))
        write(outdir, name, ".events", pen.evemu())
        write(outdir, name, ".expect", expect_text(name, pen, meta))
    # a machine with a keyboard and no pad
    write(outdir, "no-pad", ".umockdev", umockdev_keyboard_only())
    write(outdir, "no-pad", ".expect", "# no-pad\nopen no_pad\n")
    # a pad whose firmware reports no resolution: the size must be configured
    write(outdir, "no-resolution", ".umockdev", umockdev_tablet())
    write(outdir, "no-resolution", ".ioctl", ioctl_file(resolution=0))
    write(outdir, "no-resolution", ".events", "# EVEMU 1.3\n")
    write(outdir, "no-resolution", ".expect", "# no-resolution\nopen no_resolution\n")


if __name__ == "__main__":
    main()
