"""Shared parts of the crash harnesses (test_crash_retasd.py, test_crash_hq.py).

Head office runs as a real `retas-hq serve` on a port fixed for the whole
run, so a van configured once reaches every restarted server. The checks
are the issue's: the van's store passes `PRAGMA integrity_check` (read
only), the audit chain verifies (`retas audit verify`), every record the
van acknowledged is still there with the same hash, the record chain has no
gap and every listed record opens with the core library (open-record plays
head office), and at head office every record is present exactly once.

Figures go to $RETAS_FIGURES_DIR/NAME.json when that variable is set.
"""
import hashlib
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from harness import MKLETTER, NIP, PIN, RETAS, WAIT, rfc3339, run_ok  # noqa: E402

HQ = os.environ["RETAS_HQ"]
VAN = "MPK-01"


def kills_wanted(default):
    """RETAS_CRASH_KILLS selects the long mode (e.g. 200)."""
    v = os.environ.get("RETAS_CRASH_KILLS", "")
    return int(v) if v else default


def make_rng(name):
    """A seeded RNG; the seed is printed so a failure can be replayed with
    RETAS_CRASH_SEED=S."""
    v = os.environ.get("RETAS_CRASH_SEED", "")
    seed = int(v) if v else int.from_bytes(os.urandom(4), "little")
    print(f"{name}: seed {seed} (replay with RETAS_CRASH_SEED={seed})", flush=True)
    return seed, random.Random(seed)


def write_figures(name, figures):
    out = os.environ.get("RETAS_FIGURES_DIR")
    print(f"{name}: {json.dumps(figures)}", flush=True)
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(figures, f)
            f.write("\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ro(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=WAIT)


def integrity(path):
    db = ro(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


class HqServer:
    """One head-office directory served on a fixed loopback port."""

    def __init__(self, tmp, request_timeout=None):
        self.dir = os.path.join(tmp, "hq")
        keys = json.loads(run_ok([HQ, "--json", "init", self.dir]))
        self.sign_pub = keys["sign_key"]
        self.keydir = os.path.join(self.dir, "keys")
        self.db = os.path.join(self.dir, "hq.db")
        self.log = os.path.join(tmp, "retas-hq.log")
        if request_timeout is not None:
            # A PATCH cut off mid-body holds the upload (tus.busy) until the
            # request times out; keep that short so a van's resumption is
            # not held for a minute after its connection died.
            conf = os.path.join(self.dir, "retas-hq.conf")
            with open(conf) as f:
                text = f.read()
            assert "request_timeout = 60\n" in text, text
            with open(conf, "w") as f:
                f.write(text.replace("request_timeout = 60\n",
                                     f"request_timeout = {request_timeout}\n"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()
        self.reader = None

    def run(self, *args):
        return subprocess.run([HQ, "--dir", self.dir, *args], capture_output=True, text=True,
                              timeout=WAIT)

    def start(self):
        deadline = time.monotonic() + WAIT
        while True:
            self.proc = subprocess.Popen(
                [HQ, "--dir", self.dir, "serve", "--listen", f"127.0.0.1:{self.port}"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with self.cond:
                self.lines = []
            self.reader = threading.Thread(target=self._read_log, args=(self.proc.stderr,),
                                           daemon=True)
            self.reader.start()
            line = self._first_line(deadline)
            if line is not None:
                assert "listening on " in line, line
                return
            # The port is still held by a connection of the killed server
            # (or taken by another program): only then try again.
            rc = self.proc.wait(WAIT)
            self._close()
            if time.monotonic() > deadline:
                raise AssertionError(f"retas-hq serve could not listen ({rc}):\n"
                                     + self.tail())
            time.sleep(0.2)

    def _read_log(self, pipe):
        """The server's log into the log file and, line by line, to
        wait_line (kill points keyed to what the server is doing)."""
        with open(self.log, "ab") as log:
            for raw in pipe:
                log.write(raw)
                log.flush()
                with self.cond:
                    self.lines.append(raw.decode(errors="replace"))
                    self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def wait_line(self, pred, timeout=WAIT):
        """Waits for a log line of this server run that pred accepts; returns
        it, or None when the server ended or the time ran out first."""
        deadline = time.monotonic() + timeout
        i = 0
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    i += 1
                    if line is None:
                        return None
                    if pred(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or not self.cond.wait(left):
                    if deadline - time.monotonic() <= 0:
                        return None

    def _close(self):
        self.proc.stdout.close()
        self.reader.join(WAIT)
        self.proc.stderr.close()
        self.proc = None

    def _first_line(self, deadline):
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("retas-hq serve did not say it listens")
            if select.select([self.proc.stdout], [], [], left)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    return None
                buf += chunk
        return buf.split(b"\n")[0].decode()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)
        self._close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(WAIT)
            self._close()
            if rc != 0:
                raise AssertionError(f"retas-hq serve exited with {rc}:\n{self.tail()}")
        self.proc = None

    def tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-4000:]

    def query(self, sql, *args):
        db = ro(self.db)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def records(self):
        """[(id, sha256 hex)] of what head office stored from our van, with
        any repeats."""
        return [(i, h.hex()) for i, h in
                self.query("SELECT id, sha256 FROM records WHERE van_id = ?", VAN)]

    def check_batches(self):
        """Every batch head office holds has its receipt and every record its
        manifest lists (stored, already there, or kept aside): a batch is
        there whole or not at all. Returns the number of batches."""
        bad = self.query("SELECT id FROM batches b WHERE NOT EXISTS "
                         "(SELECT 1 FROM receipts r WHERE r.batch_id = b.id)")
        assert bad == [], f"batches without a receipt: {bad}"
        held = {i for i, in self.query("SELECT id FROM records")}
        held |= {i for i, in self.query("SELECT record_id FROM quarantine")}
        n = 0
        for bid, manifest in self.query("SELECT id, manifest FROM batches"):
            n += 1
            ids = manifest_record_ids(manifest)
            missing = [i for i in ids if i not in held]
            assert not missing, f"batch {bid} is in the store without records {missing}"
        return n


def van_for_hq(hq, keys, conf, sync, letter_args=()):
    """Writes the van's configuration for hq (sync auto, plain HTTP, the
    [sync] keys of `sync` besides), registers the van's key at head office
    and makes a surat tugas for it. Returns (letter path, seal keypair)."""
    with open(conf, "w") as f:
        f.write(f"# written by the test\n[hq]\nsign_key = {hq.sign_pub}\n"
                "[login]\nidle_timeout = 86400\n"
                f"[sync]\nurl = {hq.url}\nallow_http = 1\nauto = 1\n{sync}")
    p = hq.run("van", "register", keys.van_pub, "--id", VAN)
    if p.returncode != 0:
        raise AssertionError(f"van register: {p.stderr}")
    letter = os.path.join(os.path.dirname(hq.dir), "letter.jws")
    seal = os.path.join(hq.keydir, "seal.key")
    run_ok([MKLETTER, "--sign-key", os.path.join(hq.keydir, "sign.key"),
            "--seal-keypair", seal, "--device-key", keys.van_pub, "--van-id", VAN,
            "--from", rfc3339(-3600), "--until", rfc3339(12 * 3600),
            "--nomor", "800/041/DUKCAPIL/2026", "--petugas", f"{NIP}:Rina Marlina:{PIN}",
            *letter_args, "-o", letter])
    return letter, seal


def manifest_record_ids(manifest):
    """The record ids a stored manifest (JWS compact) lists."""
    if isinstance(manifest, bytes):
        manifest = manifest.decode()
    payload = manifest.split(".")[1]
    import base64
    m = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return [r["id"] for r in m["records"]]


class VanStore:
    """What the van's store must keep across kills, checked read-only."""

    def __init__(self, state, open_record, van_pub, seal_key, tmp):
        self.path = os.path.join(state, "retasd.db")
        self.open_record = open_record
        self.van_pub = van_pub
        self.seal_key = seal_key
        self.parts = os.path.join(tmp, "parts")
        self.acked = {}     # record id -> sha256 hex (None: not known yet)
        self.opened = {}    # record id -> sha256 hex, opened once already

    def acknowledge(self, rid, sha=None):
        self.acked[rid] = sha

    def check(self):
        """Every assertion after a restart; returns the number of records."""
        res = integrity(self.path)
        assert res == [("ok",)], f"integrity_check: {res}"
        db = ro(self.path)
        try:
            rows = db.execute("SELECT id, seq, prev_hash, hash, sealed, purged_at, student_id"
                              " FROM record ORDER BY seq").fetchall()
            orphans = db.execute("SELECT count(*) FROM record r WHERE student_id IS NOT NULL"
                                 " AND NOT EXISTS (SELECT 1 FROM student s"
                                 " WHERE s.id = r.student_id)").fetchone()[0]
        finally:
            db.close()
        assert orphans == 0, f"{orphans} records name a student the index lacks"
        seqs = [r[1] for r in rows]
        assert seqs == list(range(1, len(rows) + 1)), f"record sequence has gaps: {seqs}"
        prev = None
        have = {}
        for rid, seq, prev_hash, h, sealed, purged, _sid in rows:
            assert prev_hash == prev, f"record {seq} does not chain to {seq - 1}"
            prev = h
            if purged is None:
                sha = hashlib.sha256(sealed).hexdigest()
                assert h is not None and len(sealed) > 0, f"record {rid} is empty"
                have[rid] = sha
                if rid not in self.opened:
                    self.open(rid)
                    self.opened[rid] = sha
                assert self.opened[rid] == sha, f"record {rid} changed after it was stored"
            else:
                have[rid] = self.opened.get(rid)
        for rid, sha in self.acked.items():
            assert rid in have, f"acknowledged record {rid} is missing"
            if sha is not None and have[rid] is not None:
                assert have[rid] == sha, f"acknowledged record {rid} changed"
        return len(rows)

    def seed(self, conf, n, photo_len):
        """Adds n sealed records with retas-seed-records (the daemon's own
        store code) while retasd is stopped; they count as acknowledged."""
        out = run_ok([os.environ["RETAS_SEED_RECORDS"], "--config", conf, "--state-dir",
                      os.path.dirname(self.path), "-n", str(n), "--photo-len", str(photo_len)])
        rows = [line.split() for line in out.splitlines()]
        assert len(rows) == n, out
        for rid, _seq, sha in rows:
            self.acknowledge(rid, sha)
        return n

    def open(self, rid):
        shutil.rmtree(self.parts, ignore_errors=True)
        os.mkdir(self.parts)
        p = subprocess.run([self.open_record, "record", self.path, rid, self.van_pub,
                            self.seal_key, self.parts], capture_output=True, text=True,
                           timeout=WAIT)
        assert p.returncode == 0, f"record {rid} does not open: {p.stderr}"
        head = json.loads(p.stdout)
        assert any(x["name"] == "demografi.json" for x in head["parts"]), head

    def sealed_hashes(self):
        db = ro(self.path)
        try:
            return {i: hashlib.sha256(s).hexdigest() for i, s in
                    db.execute("SELECT id, sealed FROM record WHERE purged_at IS NULL")}
        finally:
            db.close()


def cli(sock, *args, stdin=None):
    e = dict(os.environ, RETAS_SOCKET=sock)
    return subprocess.run([RETAS, *args], input=stdin, capture_output=True, text=True, env=e,
                          timeout=WAIT)


def last_json(text):
    dec, i, last = json.JSONDecoder(), 0, None
    text = text.strip()
    while i < len(text):
        last, i = dec.raw_decode(text, i)
        while i < len(text) and text[i].isspace():
            i += 1
    if last is None:
        raise AssertionError("no JSON on stdout")
    return last.get("parameters", last)


def audit_ok(sock):
    p = cli(sock, "audit", "verify")
    assert p.returncode == 0, f"retas audit verify: {p.returncode}\n{p.stdout}{p.stderr}"


def drain(sock, deadline_s=WAIT * 3):
    """Runs `retas sync --now` until the van has nothing waiting or
    uploading; returns the queue."""
    deadline = time.monotonic() + deadline_s
    while True:
        p = cli(sock, "queue", "--json")
        assert p.returncode == 0, p.stderr
        q = last_json(p.stdout)
        if q["waiting"] == 0 and q["uploading"] == 0:
            return q
        if time.monotonic() > deadline:
            raise AssertionError(f"the van did not finish syncing: {q}")
        cli(sock, "sync", "--now", "--json")


def compare_with_hq(hq, van_hashes):
    """(records lost, duplicates) between the van and head office."""
    at_hq = hq.records()
    ids = [i for i, _ in at_hq]
    dups = len(ids) - len(set(ids))
    dups += hq.query("SELECT count(*) FROM (SELECT seq FROM records WHERE van_id = ?"
                     " GROUP BY seq HAVING count(*) > 1)", VAN)[0][0]
    got = dict(at_hq)
    lost = sum(1 for i, h in van_hashes.items() if got.get(i) != h)
    extra = sum(1 for i in got if i not in van_hashes)
    return lost, dups + extra
