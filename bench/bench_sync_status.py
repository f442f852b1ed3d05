"""`retas status` latency while retasd uploads, against idle.

retasd runs in a van network namespace joined to head office's by a veth
pair shaped with tbf (4 Mbit/s both ways), `retas-hq serve` on the far
side; records sealed by tests/tools/retas-seed-records (20 MB of them,
RETAS_BENCH_SYNC_MB changes it) wait in its outbox. The baseline: `retas
status` (a whole CLI process, timed from spawn to exit) called back to back
with nothing under way, half before the upload and half after it. Then a
Sync call starts the upload and the same calls run back to back for as
long as retasd says it is uploading; only calls that began and ended inside
that phase count. Each `retas status` is followed by one bare Status call
on a fresh socket: the daemon's own share of the time, without the CLI's
exec. Prints medians and p95 of both series and their ratios; exits 77
where namespaces or tc cannot be used. When RETAS_FIGURES_DIR is set,
writes sync-status-latency.json there.

Environment (bench/meson.build passes the tests' environment): RETASD,
RETAS_CLI, RETAS_MKLETTER, RETAS_HQ, RETAS_SEED_RECORDS.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "daemon"))
import harness  # noqa: E402
from harness import (MKLETTER, NIP, PIN, RETAS, WAIT, Client, Daemon, Keys,  # noqa: E402
                     rfc3339, run_ok)

HQ = os.environ["RETAS_HQ"]
SEED = os.environ["RETAS_SEED_RECORDS"]
VAN = "MPK-01"
RATE_KBIT = 4000
PHOTO_LEN = 400 * 1000
IDLE_CALLS = 300
MIN_BUSY_CALLS = 30
HQ_ADDR = "10.79.1.2"


def tool(name):
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


class Link:
    """Two namespaces and a shaped veth pair between them."""

    def __init__(self):
        self.ip, self.tc = tool("ip"), tool("tc")
        self.van = f"retas-svan-{os.getpid()}"
        self.hq = f"retas-shq-{os.getpid()}"
        self.made = False

    def sh(self, *args):
        return subprocess.run(list(args), capture_output=True, timeout=WAIT).returncode == 0

    def make(self):
        if not self.ip or not self.tc:
            print("no ip(8) or tc(8): skipped")
            sys.exit(77)
        if not self.sh(self.ip, "netns", "add", self.van):
            print("cannot create a network namespace: skipped")
            sys.exit(77)
        self.made = True
        ok = (self.sh(self.ip, "netns", "add", self.hq)
              and self.sh(self.ip, "-n", self.van, "link", "add", "v0", "type", "veth", "peer",
                          "name", "v1", "netns", self.hq)
              and self.sh(self.ip, "-n", self.van, "addr", "add", "10.79.1.1/24", "dev", "v0")
              and self.sh(self.ip, "-n", self.hq, "addr", "add", HQ_ADDR + "/24", "dev", "v1")
              and self.sh(self.ip, "-n", self.van, "link", "set", "v0", "up")
              and self.sh(self.ip, "-n", self.hq, "link", "set", "v1", "up"))
        for ns, dev in ((self.van, "v0"), (self.hq, "v1")):
            ok = ok and self.sh(self.tc, "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf",
                                "rate", f"{RATE_KBIT}kbit", "burst", "16kb", "latency", "200ms")
        if not ok:
            self.remove()
            print("cannot build the shaped link: skipped")
            sys.exit(77)

    def remove(self):
        if self.made:
            self.sh(self.ip, "netns", "del", self.van)
            self.sh(self.ip, "netns", "del", self.hq)
            self.made = False


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def status_ms(d):
    """One `retas status` process, spawn to exit, then one bare Status call
    on a fresh connection (the daemon's own share), both in milliseconds."""
    env = dict(os.environ, RETAS_SOCKET=d.sock)
    t0 = time.perf_counter()
    p = subprocess.run([RETAS, "status"], capture_output=True, env=env, timeout=WAIT)
    t1 = time.perf_counter()
    if p.returncode != 0:
        raise AssertionError(f"retas status exited {p.returncode}: {p.stderr!r}")
    with Client(d.sock) as c:
        reply = c.call("Status")
    t2 = time.perf_counter()
    if "error" in reply:
        raise AssertionError(f"Status: {reply}")
    return ((t1 - t0) * 1000, (t2 - t1) * 1000)


class Uploader(threading.Thread):
    """Sync {now: true} with more, following the progress until the end."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.client = Client(sock)
        self.client.sock.settimeout(600)
        self.phase = None
        self.started = threading.Event()
        self.ended = threading.Event()
        self.final = None
        self.t_upload = None

    def run(self):
        try:
            self.client.send("Sync", {"now": True}, more=True)
            while True:
                msg = self.client.recv()
                params = msg.get("parameters", {})
                self.phase = params.get("phase")
                if self.phase == "uploading" and self.t_upload is None:
                    self.t_upload = time.monotonic()
                    self.started.set()
                if not msg.get("continues"):
                    self.final = msg
                    return
        finally:
            self.phase = "ended"
            self.started.set()
            self.ended.set()
            self.client.close()


def start_hq(link, hq_dir):
    proc = subprocess.Popen([link.ip, "netns", "exec", link.hq, HQ, "--dir", hq_dir, "serve",
                             "--listen", HQ_ADDR + ":0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline, buf = time.monotonic() + WAIT, b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("retas-hq serve did not say it listens")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"retas-hq serve exited: {proc.wait()}")
            buf += chunk
    hostport = buf.split(b"\n")[0].decode().split("listening on ")[1].split()[0]
    return proc, f"http://{hostport}/"


def main():
    mb = int(os.environ.get("RETAS_BENCH_SYNC_MB", "20"))
    if not 1 <= mb <= 1024:
        print(f"RETAS_BENCH_SYNC_MB must be 1..1024, not {mb}", file=sys.stderr)
        return 2
    n_records = max(1, mb * 1000 * 1000 // PHOTO_LEN)
    link = Link()
    link.make()
    # Outside /tmp, whose retas-* entries other runs on a shared machine
    # may sweep away while the upload still runs.
    tmp = tempfile.mkdtemp(prefix="retas-bench-status-",
                           dir=os.environ.get("TMPDIR") or "/var/tmp")
    hq_proc, d = None, None
    try:
        # retasd in the van's namespace: its state, socket and notify
        # socket are files, reachable from here.
        wrapper = os.path.join(tmp, "retasd-in-van")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec {link.ip} netns exec {link.van} {harness.RETASD} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        harness.RETASD = wrapper
        d = Daemon(tmp)
        keys = Keys(tmp, d)
        hq_dir = os.path.join(tmp, "hq")
        sign_pub = json.loads(run_ok([HQ, "--json", "init", hq_dir]))["sign_key"]
        run_ok([HQ, "--dir", hq_dir, "van", "register", keys.van_pub, "--id", VAN])
        hq_proc, url = start_hq(link, hq_dir)
        with open(d.conf, "w") as f:
            f.write(f"[hq]\nsign_key = {sign_pub}\n[sync]\nurl = {url}\nallow_http = 1\n"
                    "auto = 0\nbackoff_base = 200\nbackoff_cap = 1000\n")
        letter = os.path.join(tmp, "letter.jws")
        hkeys = os.path.join(hq_dir, "keys")
        run_ok([MKLETTER, "--sign-key", os.path.join(hkeys, "sign.key"),
                "--seal-keypair", os.path.join(hkeys, "seal.key"),
                "--device-key", keys.van_pub, "--van-id", VAN,
                "--from", rfc3339(-3600), "--until", rfc3339(8 * 3600),
                "--nomor", "800/041/DUKCAPIL/2026", "--petugas", f"{NIP}:Rina Marlina:{PIN}",
                "-o", letter])
        d.start()
        for args, stdin in ((("assignment", "load", letter), None),
                            (("login", NIP, "--pin-stdin"), PIN + "\n"),
                            (("session", "open"), None)):
            p = d.cli(*args, stdin=stdin)
            if p.returncode != 0:
                raise AssertionError(f"retas {' '.join(args)}: {p.stderr}")
        d.stop()
        run_ok([SEED, "--config", d.conf, "--state-dir", d.state, "-n", str(n_records),
                "--photo-len", str(PHOTO_LEN)])
        d.start()

        # Half the idle calls before the upload and half after, so a
        # change in the machine's load weighs on both series alike.
        status_ms(d)  # the page cache warm for both series
        idle = [status_ms(d) for _ in range(IDLE_CALLS // 2)]

        up = Uploader(d.sock)
        up.start()
        if not up.started.wait(WAIT) or up.phase != "uploading":
            raise AssertionError(f"retasd did not start uploading: {up.final}")
        busy = []
        while not up.ended.is_set():
            before = up.phase
            t = status_ms(d)
            if before == "uploading" and up.phase == "uploading":
                busy.append(t)
        up.join(WAIT)
        upload_s = time.monotonic() - up.t_upload
        final = up.final.get("parameters", {}) if up.final else {}
        if final.get("outcome") != "acknowledged" or final.get("acknowledged") != n_records:
            raise AssertionError(f"the upload did not end acknowledged: {up.final}")
        if len(busy) < MIN_BUSY_CALLS:
            raise AssertionError(f"only {len(busy)} status calls during the upload")
        idle += [status_ms(d) for _ in range(IDLE_CALLS - IDLE_CALLS // 2)]
    finally:
        if d and d.proc:
            d.stop()
        if hq_proc:
            hq_proc.send_signal(signal.SIGTERM)
            hq_proc.wait(WAIT)
            hq_proc.stdout.close()
        link.remove()
        shutil.rmtree(tmp, ignore_errors=True)

    res = {}
    for name, series in (("idle", idle), ("upload", busy)):
        for i, kind in ((0, "cli"), (1, "bare")):
            v = [x[i] for x in series]
            res[f"{name}_{kind}_median_ms"] = round(median(v), 3)
            res[f"{name}_{kind}_p95_ms"] = round(percentile(v, 95), 3)
    for kind in ("cli", "bare"):
        for q in ("median", "p95"):
            res[f"ratio_{kind}_{q}"] = round(res[f"upload_{kind}_{q}_ms"]
                                             / res[f"idle_{kind}_{q}_ms"], 3)
    print(f"{n_records} records of {PHOTO_LEN // 1000} KB over {RATE_KBIT / 1000:.0f} Mbit/s "
          f"(tbf), upload {upload_s:.1f} s, all acknowledged; {len(idle)} calls idle, "
          f"{len(busy)} while uploading")
    for kind, what in (("cli", "retas status (process)"), ("bare", "Status call (socket)")):
        print(f"{what:24} idle: median {res[f'idle_{kind}_median_ms']:6.2f} ms  "
              f"p95 {res[f'idle_{kind}_p95_ms']:6.2f} ms   uploading: median "
              f"{res[f'upload_{kind}_median_ms']:6.2f} ms  p95 "
              f"{res[f'upload_{kind}_p95_ms']:6.2f} ms   ratio uploading/idle: median "
              f"{res[f'ratio_{kind}_median']:.2f}  p95 {res[f'ratio_{kind}_p95']:.2f}")
    fig = os.environ.get("RETAS_FIGURES_DIR")
    if fig:
        with open(os.path.join(fig, "sync-status-latency.json"), "w") as f:
            json.dump(dict(res, idle_calls=len(idle), upload_calls=len(busy),
                           link_kbit=RATE_KBIT, records=n_records), f)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
