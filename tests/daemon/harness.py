"""Shared helpers for retasd's end-to-end tests.

Each test gets a temporary directory with its own state directory, socket,
configuration, head office key and van key; retasd runs from the build tree
as an ordinary process. Readiness and reloads are awaited on a NOTIFY_SOCKET
the test owns (sd_notify READY=1 / RELOADING=1), never by sleeping. Stopping
checks the exit status, so a leak reported by ASan fails the test.

Environment (set by tests/daemon/meson.build): RETASD, RETAS_CLI,
RETAS_MKLETTER, RETAS_DATADIR, RETAS_LOCALEDIR.
"""
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

RETASD = os.environ["RETASD"]
RETAS = os.environ["RETAS_CLI"]
MKLETTER = os.environ["RETAS_MKLETTER"]
IFACE = "id.go.jambikota.dukcapil.retas"
NIP = "198703152010011002"
NIP2 = "199001012015032001"
PIN = "123456"
PIN2 = "654321"
WAIT = 60.0  # seconds any single wait may take, generous for ASan builds


def rfc3339(offset_s):
    """Now plus offset_s seconds, as RFC 3339 in WIB."""
    t = time.time() + offset_s + 7 * 3600
    return time.strftime("%Y-%m-%dT%H:%M:%S+07:00", time.gmtime(t))


class Notify:
    """A datagram socket playing the service manager's notify socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def wait_for(self, line, proc):
        deadline = time.monotonic() + WAIT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"retasd did not send {line} in {WAIT} s")
            ready, _, _ = select.select([self.sock], [], [], min(left, 0.5))
            if not ready:
                if proc.poll() is not None:
                    raise AssertionError(f"retasd exited with {proc.returncode} before {line}")
                continue
            msg = self.sock.recv(4096).decode()
            if line in msg.split("\n"):
                return msg

    def close(self):
        self.sock.close()


class Daemon:
    """One retasd on a temporary state directory and socket."""

    def __init__(self, tmp, sets=()):
        self.tmp = tmp
        self.state = os.path.join(tmp, "state")
        self.sock = os.path.join(tmp, "retasd.sock")
        self.conf = os.path.join(tmp, "retasd.conf")
        self.log = os.path.join(tmp, "retasd.log")
        self.sets = list(sets)
        self.proc = None
        self.notify = None

    def start(self, sets=None):
        if sets is not None:
            self.sets = list(sets)
        npath = os.path.join(self.tmp, "notify.sock")
        if os.path.exists(npath):
            os.unlink(npath)
        self.notify = Notify(npath)
        env = dict(os.environ, NOTIFY_SOCKET=npath)
        args = [RETASD, "--config", self.conf, "--state-dir", self.state, "--socket", self.sock]
        for s in self.sets:
            args += ["--set", s]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=log)
        self.notify.wait_for("READY=1", self.proc)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(WAIT)
        finally:
            self.notify.close()
        if rc != 0:
            raise AssertionError(f"retasd exited with {rc}; log:\n{self.read_log()}")
        self.proc = None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.notify:
            self.notify.close()
        self.proc = None

    def reload(self, conf_text):
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.proc.send_signal(signal.SIGHUP)
        self.notify.wait_for("RELOADING=1", self.proc)
        return self.notify.wait_for("READY=1", self.proc)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def cli(self, *args, stdin=None, env=None):
        e = dict(os.environ, RETAS_SOCKET=self.sock)
        if env:
            e.update(env)
        return subprocess.run([RETAS, *args], input=stdin, capture_output=True, text=True,
                              env=e, timeout=WAIT)

    def connect(self):
        return Client(self.sock)

    def call(self, method, params=None):
        with self.connect() as c:
            return c.call(method, params)


class Client:
    """A raw varlink connection."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(WAIT)
        self.sock.connect(path)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, params=None, **flags):
        msg = {"method": method if "." in method else f"{IFACE}.{method}"}
        if params is not None:
            msg["parameters"] = params
        msg.update(flags)
        self.send_raw(json.dumps(msg).encode() + b"\0")

    def recv(self):
        while b"\0" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("retasd closed the connection")
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None):
        self.send(method, params)
        return self.recv()


class Keys:
    """Head office's signing key and the van's device key for one test."""

    def __init__(self, tmp, daemon):
        self.tmp = tmp
        self.hq_key = os.path.join(tmp, "hq.key")
        self.hq_pub = run_ok([MKLETTER, "--sign-key", self.hq_key]).strip()
        self.seal_key = os.path.join(tmp, "seal.key")
        with open(daemon.conf, "w") as f:
            f.write(conf_text(self.hq_pub))
        self.van_pub = run_ok([RETASD, "--config", daemon.conf, "--state-dir", daemon.state,
                               "--print-device-key"]).strip()

    def letter(self, name, *, sign_key=None, device_key=None, start=-3600, end=8 * 3600,
               nomor="800/041/DUKCAPIL/2026", petugas=((NIP, "Rina Marlina", PIN),)):
        path = os.path.join(self.tmp, name)
        args = [MKLETTER, "--sign-key", sign_key or self.hq_key,
                "--device-key", device_key or self.van_pub, "--seal-keypair", self.seal_key,
                "--from", rfc3339(start), "--until", rfc3339(end), "--nomor", nomor, "-o", path]
        for nip, nama, pin in petugas:
            args += ["--petugas", f"{nip}:{nama}:{pin}"]
        run_ok(args)
        return path


def conf_text(hq_pub, extra=""):
    return f"# written by the test\n[hq]\nsign_key = {hq_pub}\n{extra}"


def run_ok(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=WAIT, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stderr}")
    return p.stdout


class DaemonTest(unittest.TestCase):
    """Sets up a temporary directory, keys and a daemon (not yet started)."""

    sets = ()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="retasd-test-")
        self.d = Daemon(self.tmp, self.sets)
        self.keys = Keys(self.tmp, self.d)

    def tearDown(self):
        if self.d.proc:
            try:
                self.d.stop()
            finally:
                self.d.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assertRefused(self, reply, reason):
        self.assertEqual(reply.get("error"), f"{IFACE}.Refused", reply)
        self.assertEqual(reply["parameters"]["reason"], reason, reply)
        return reply["parameters"]

    def assertCli(self, p, rc, out=None, err=None):
        self.assertEqual(p.returncode, rc, f"stdout: {p.stdout}\nstderr: {p.stderr}")
        if out is not None:
            self.assertIn(out, p.stdout)
        if err is not None:
            self.assertIn(err, p.stderr)

    def login(self, nip=NIP, pin=PIN):
        return self.d.cli("login", nip, "--pin-stdin", stdin=pin + "\n")


def main():
    unittest.main(verbosity=2)
