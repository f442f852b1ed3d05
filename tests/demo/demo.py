#!/usr/bin/env python3
"""A RETAS day on the real programs, narrated: head office issues a surat
tugas, the van loads it, an officer logs in and opens the session, the
student list goes in, and the three peripherals are checked on their
emulated devices (NB-1010-U under umockdev, a Wacom pen tablet under
umockdev, a virtual PTP/IP camera). Every step runs the programs a person
would run; nothing here is a stand-in for them.

    demo.py BUILD_DIR

Leaves the letter, reports, photos, signatures and logs in a folder it names
at the end, stops every process it started (also on Ctrl-C) and exits 0.
Parts of the day that the kit cannot do yet are said, not skipped silently.
"""
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB1010_SYSFS = "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2"
PAD_NODE = "/dev/input/event5"
WIB = datetime.timezone(datetime.timedelta(hours=7))
PETUGAS = [("198703152010011002", "Rina Marlina", "482915"),
           ("199001202015032004", "Dedi Kurniawan", "730461")]
STAFF = {"bidang": ("196801011990031001", "Hendra Saputra"),
         "kabid": ("197203111995031002", "Yuliana, S.Sos"),
         "kadis": ("196702221985121001", "Drs. NIRWAN, ME"),
         "fo": ("198511052009012003", "Maya Sari")}
STUDENTS = """NIK;Nama;Jenis Kelamin;Tanggal Lahir;Kelas
1571014703080001;Siti Aminah;P;2008-03-07;XII IPA 1
1571021208090002;Budi Santoso;L;2009-08-12;XII IPA 1
1571034409090003;Dewi Lestari;P;2009-09-04;XI IPS 2
1571041511100004;Rahmat Hidayat;L;2010-11-15;X MIPA 3
1571052002080005;Andi Pratama;L;2008-02-20;XII IPS 1
1571065106100006;Nur Aisyah;P;2010-06-11;XI IPA 2
1571076503110007;Putri Ramadhani;P;2011-03-25;X MIPA 1
"""


# (NIK, what happens): the five students enrolled, in order.
ENROL = [("1571014703080001", "all ten fingers, photo, signature", []),
         ("1571021208090002", "left index finger bandaged: an exception the officer confirms",
          ["--exception", "7:bandaged"]),
         ("1571034409090003", "the first photo is not good enough: one retake",
          ["--retake-photo", "1"]),
         ("1571041511100004", "16 years old: recorded, record-only until 17", []),
         ("1571052002080005", "all ten fingers, photo, signature", [])]


class Demo:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.out = os.path.join(self.build, "demo", stamp)
        os.makedirs(self.out)
        self.procs = []
        self.step_no = 0
        self.env = dict(os.environ, RETAS_DATADIR=os.path.join(SOURCE, "data"),
                        RETAS_LOCALEDIR=os.path.join(self.build, "po"),
                        HOME=os.path.join(self.out, "home"))
        os.makedirs(self.env["HOME"])
        self.retas = os.path.join(self.build, "cli", "retas")
        self.retasd = os.path.join(self.build, "daemon", "retasd")
        self.hq = os.path.join(self.build, "hq", "retas-hq")
        self.hqdir = os.path.join(self.out, "hq")
        self.state = os.path.join(self.out, "van-state")
        self.sock = os.path.join(self.out, "retasd.sock")
        self.env["RETAS_SOCKET"] = self.sock

    # -- narration and running ------------------------------------------
    def step(self, text):
        self.step_no += 1
        print(f"\n\033[1m{self.step_no}. {text}\033[0m" if sys.stdout.isatty()
              else f"\n{self.step_no}. {text}", flush=True)

    def say(self, text):
        print(f"   {text}", flush=True)

    def as_staff(self, role):
        """The environment of a staff member: the token travels in
        RETAS_HQ_TOKEN, never on a command line someone could read."""
        return dict(self.env, RETAS_HQ_TOKEN=self.tokens[role])

    def run(self, args, stdin=None, check=True, show=True, env=None, timeout=60):
        shown = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(args))
        shown = shown.replace(self.out, "$DEMO").replace(self.build, "$BUILD")
        if show:
            print(f"   $ {shown}", flush=True)
        # Shown output shares one pipe so lines keep the program's order;
        # output the demo reads keeps stdout to itself.
        p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT if show else subprocess.PIPE,
                           text=True, env=env or self.env, timeout=timeout)
        if show:
            for line in p.stdout.rstrip().splitlines():
                print(f"     {line.replace(self.out, '$DEMO')}")
        if check and p.returncode != 0:
            raise SystemExit(f"demo: '{shown}' failed with exit {p.returncode}")
        return p

    def start(self, args, ready, log, env=None):
        """Starts a long-running program and waits (bounded) for its
        readiness line on stderr or stdout; returns (process, match)."""
        logf = open(os.path.join(self.out, log), "w")
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env or self.env, start_new_session=True)
        self.procs.append(p)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                raise SystemExit(f"demo: {os.path.basename(args[0])} exited early; see {log}")
            logf.write(line)
            logf.flush()
            m = re.search(ready, line)
            if m:
                # Keep draining its output into the log so it never blocks.
                import threading

                def drain():
                    for rest in p.stdout:
                        logf.write(rest)
                        logf.flush()
                threading.Thread(target=drain, daemon=True).start()
                return p, m
        raise SystemExit(f"demo: {os.path.basename(args[0])} not ready within 30 s")

    def start_retasd(self, conf, bed=None):
        """retasd, inside a umockdev testbed (umockdev-bed) when bed lists
        the emulated devices; waits for READY=1 on a notify socket."""
        notify = os.path.join(self.out, "notify")
        n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        n.bind(notify)
        n.settimeout(30)
        env = dict(self.env, NOTIFY_SOCKET=notify)
        log = open(os.path.join(self.out, "retasd.log"), "w")
        args = [self.retasd, "--config", conf, "--state-dir", self.state, "--socket", self.sock]
        if bed:
            args = bed + ["--"] + args
        p = subprocess.Popen(args, env=env, stdin=subprocess.PIPE if bed else None,
                             stdout=subprocess.PIPE if bed else log, stderr=log, text=True,
                             start_new_session=True)
        self.procs.append(p)
        if bed and not p.stdout.readline().startswith("started"):
            raise SystemExit("demo: umockdev-bed could not start retasd; see retasd.log")
        while b"READY=1" not in n.recv(4096).split(b"\n"):
            pass
        n.close()
        os.unlink(notify)
        self.retasd_proc = p
        return p

    def pad_signs(self):
        """The student signs: the testbed writes the strokes to the pad."""
        p = self.retasd_proc
        strokes = os.path.join(self.build, "tests", "devices", "wacom-one-ctl472",
                               "several-strokes.events")
        p.stdin.write(f"events {PAD_NODE} {strokes}\n")
        p.stdin.flush()
        return p.stdout.readline().startswith("written")

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []

    def has_command(self, name):
        help_text = self.run([self.retas, "help"], show=False).stdout
        return re.search(rf"^  {re.escape(name)}\s", help_text, re.M) is not None

    # -- the day ------------------------------------------------------------
    def head_office(self):
        self.step("Head office: retas-hq init, the staff, and the server on a loopback port")
        self.run([self.hq, "init", self.hqdir])
        keys = open(os.path.join(self.hqdir, "keys", "sign.pub")).read().strip()
        self.hq_sign = keys
        self.tokens = {}
        for role, (nip, nama) in STAFF.items():
            p = self.run([self.hq, "--dir", self.hqdir, "staff", "add", nip, "--name", nama,
                          "--role", role], show=False)
            self.tokens[role] = p.stdout.strip().splitlines()[0]
            self.say(f"staff {nama} ({role}) added; token shown once")
        self.hq_proc, m = self.start([self.hq, "--dir", self.hqdir, "serve", "--listen",
                                      "127.0.0.1:0"], r"listening on ([\d.]+):(\d+)",
                                     "retas-hq.log")
        self.hq_url = f"http://{m.group(1)}:{m.group(2)}"
        self.say(f"retas-hq serves {self.hq_url} (GET /healthz answers)")

        self.step("Head office: the van MPK-01 registers its device key")
        p = self.run([self.retasd, "--state-dir", self.state, "--print-device-key"],
                     show=False)
        self.van_key = p.stdout.strip()
        self.say(f"$ retasd --print-device-key\n     {self.van_key}")
        self.run([self.hq, "--dir", self.hqdir, "van", "register", self.van_key,
                  "--id", "MPK-01"])

        self.step("RETAS SOP steps 1-4: usulan, approval, surat tugas, signature, tanda terima")
        now = datetime.datetime.now(WIB).replace(microsecond=0)
        start = (now - datetime.timedelta(hours=1)).isoformat()
        until = (now + datetime.timedelta(hours=8)).isoformat()
        hq = [self.hq, "--dir", self.hqdir]
        p = self.run(hq + ["--json", "usulan", "create",
                           "--npsn", "10504187", "--nama", "SMA Negeri 1 Kota Jambi",
                           "--alamat", "Jl. Urip Sumoharjo", "--kecamatan", "157101",
                           "--from", start, "--until", until], show=False,
                     env=self.as_staff("bidang"))
        usulan = json.loads(p.stdout)["id"]
        self.say(f"bidang proposed usulan {usulan}: SMA Negeri 1 Kota Jambi, {start} .. {until}")
        self.run(hq + ["usulan", "approve", str(usulan)], env=self.as_staff("kadis"))
        self.nomor = f"800/{now.strftime('%j')}/DUKCAPIL/{now.year}"
        draft = hq + ["surat-tugas", "draft", "--usulan", str(usulan), "--nomor", self.nomor,
                      "--van", "MPK-01"]
        for nip, nama, _ in PETUGAS:
            draft += ["--petugas", f"{nip}:{nama}"]
        self.run(draft, stdin="".join(pin + "\n" for _, _, pin in PETUGAS),
                 env=self.as_staff("kabid"))
        self.say("(each officer's PIN went in on stdin and is kept only as an argon2id hash)")
        p = self.run(hq + ["surat-tugas", "sign", self.nomor], env=self.as_staff("kadis"),
                     show=False)
        self.say(f"kadis signed {self.nomor}: a JWS of {len(p.stdout.strip())} characters")
        self.letter = os.path.join(self.out, "surat-tugas.jws")
        self.run(hq + ["surat-tugas", "export", self.nomor, "-o", self.letter],
                 env=self.as_staff("bidang"))
        for nip, _, _ in PETUGAS:
            self.run(hq + ["surat-tugas", "tanda-terima", self.nomor, "--nip", nip],
                     env=self.as_staff("bidang"))

    def van(self):
        self.step("The van: retasd starts with the emulated reader, pad and camera")
        bed_prog = os.path.join(self.build, "tests", "devices", "enroll", "umockdev-bed")
        bed = None
        cam = os.path.join(self.build, "tests", "devices", "ptpip-camera", "ptpip-camera")
        _, m = self.start([cam, "--port", "0", "--synth", "3000x4000"], r"ready port=(\d+)",
                          "ptpip-camera.log")
        port = m.group(1)
        self.say(f"virtual PTP/IP camera listening on 127.0.0.1:{port}")
        if os.access(bed_prog, os.X_OK):
            fix = os.path.join(self.out, "devices")
            os.makedirs(fix)
            presses = "g" * sum(9 if "--exception" in extra else 10 for _, _, extra in ENROL)
            subprocess.run([os.path.join(self.build, "tests", "devices", "nb1010",
                                         "nb1010-model"), fix, "--sequence", "kelas", presses],
                           check=True, env=self.env)
            pad = os.path.join(self.build, "tests", "devices", "wacom-one-ctl472")
            bed = [bed_prog, "--device", os.path.join(fix, "nb1010.umockdev"),
                   "--device", os.path.join(pad, "several-strokes.umockdev"),
                   "--pcap", f"{NB1010_SYSFS}={os.path.join(fix, 'kelas.pcap')}",
                   "--ioctl", f"{PAD_NODE}={os.path.join(pad, 'several-strokes.ioctl')}"]
            self.say(f"NB-1010-U and Wacom One emulated by umockdev ({len(presses)} presses "
                     "scripted for the class)")
            # libgphoto2 looks only at its PTP/IP port driver: the emulated
            # USB bus holds no camera.
            iolibs = os.path.join(self.out, "iolibs")
            os.makedirs(iolibs)
            drv = subprocess.run(["pkg-config", "--variable=driverdir", "libgphoto2_port"],
                                 capture_output=True, text=True).stdout.strip()
            os.symlink(os.path.join(drv, "ptpip.so"), os.path.join(iolibs, "ptpip.so"))
            self.env["IOLIBS"] = iolibs
        conf = os.path.join(self.out, "retasd.conf")
        with open(conf, "w") as f:
            f.write(f"[hq]\nsign_key = {self.hq_sign}\n\n"
                    f"[camera]\nmodel = PTP/IP Camera\nport = ptpip:127.0.0.1:{port}:{port}\n\n"
                    f"[signature]\ndevice = {PAD_NODE}\n\n"
                    f"[sync]\nurl = {self.hq_url}/\nallow_http = 1\n"
                    "backoff_base = 500\nbackoff_cap = 2000\n")
        self.run([self.retasd, "--config", conf, "--state-dir", self.state, "--check-config"],
                 show=False)
        self.start_retasd(conf, bed)
        self.bed = bed
        self.say("retasd is ready (sd_notify READY=1)")

        self.step("The officer checks the letter offline, loads it, logs in, opens the session")
        self.run([self.retas, "assignment", "verify", self.letter, "--key", self.hq_sign,
                  "--device-key", self.van_key])
        self.run([self.retas, "assignment", "load", self.letter])
        nip, _, pin = PETUGAS[0]
        self.run([self.retas, "login", nip, "--pin-stdin"], stdin=pin + "\n")
        self.run([self.retas, "session", "open"])
        self.run([self.retas, "status"], env=dict(self.env, LC_ALL="id_ID.UTF-8",
                                                   LANG="id_ID.UTF-8"))

        self.step("The school's student list goes in (one row is refused: the student is 15)")
        csv = os.path.join(self.out, "siswa.csv")
        with open(csv, "w") as f:
            f.write(STUDENTS)
        self.run([self.retas, "students", "import", csv, "--dry-run"], check=False)
        self.run([self.retas, "students", "import", csv], check=False)
        self.run([self.retas, "students", "list"])
        self.run([self.retas, "nik", "1571041511100004"], check=False)

    def enrol(self):
        if not self.bed:
            self.step("Enrolment: umockdev-bed is not built here; the students are not enrolled")
            return
        self.step("A student is absent today")
        self.run([self.retas, "students", "absent", "1571065106100006"])
        self.receipts = []
        for i, (nik, what, extra) in enumerate(ENROL, 1):
            self.step(f"Student {i} of {len(ENROL)}: {what}")
            args = [self.retas, "enroll", nik, "--yes", *extra]
            print(f"   $ retas enroll {nik} --yes {' '.join(extra)}".rstrip(), flush=True)
            p = subprocess.Popen(args, env=self.env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            shown = 0
            for line in p.stdout:
                line = line.rstrip()
                if "signs on the pad" in line and not self.pad_signs():
                    raise SystemExit("demo: the emulated pad did not take the strokes")
                # Fingers are many lines: show the first ones and the outcome.
                if shown < 4 or not line.startswith(("Place the", "Lift", "Quality")):
                    print(f"     {line.replace(self.out, '$DEMO')}")
                shown += 1
                m = re.search(r"Receipt: (\S+\.pdf)", line)
                if m:
                    self.receipts.append(m.group(1))
            if p.wait(timeout=120) != 0:
                raise SystemExit(f"demo: retas enroll {nik} failed; see retasd.log")
        self.step("A second record for the same student is refused")
        self.run([self.retas, "enroll", ENROL[0][0], "--yes"], check=False)
        for i, pdf in enumerate(self.receipts[:1]):
            shutil.copy(pdf, os.path.join(self.out, "resi-siswa-1.pdf"))
            shutil.copy(pdf[:-4] + ".png", os.path.join(self.out, "resi-siswa-1.png"))
        self.run([self.retas, "students", "list"])

    def close(self):
        self.step("The session closes: the Draft Laporan RETAS is written by itself")
        self.run([self.retas, "session", "close"])
        self.run([self.retas, "report", "--format", "pdf", "-o",
                  os.path.join(self.out, "draft-laporan-retas.pdf")], check=False)
        self.run([self.retas, "report", "--format", "csv", "-o",
                  os.path.join(self.out, "draft-laporan-retas.csv")], check=False)
        self.run([self.retas, "audit", "verify"])

    def network_down(self):
        self.step("At the school there is no network (head office is stopped): the van works "
                  "on its own")
        hq = self.hq_proc
        os.killpg(hq.pid, signal.SIGTERM)
        hq.wait(timeout=10)
        self.procs.remove(hq)

    def network_up(self):
        self.step("Back in town the network is there: retasd notices by itself (its probe on "
                  "the backoff timer), uploads, and the officer follows it")
        self.run([self.retas, "queue"])
        self.hq_proc, _ = self.start([self.hq, "--dir", self.hqdir, "serve", "--listen",
                                      self.hq_url.split("//")[1]], r"listening on",
                                     "retas-hq-2.log")
        # Nothing here starts the upload: retasd's own probe finds head
        # office back. The demo only watches the queue, with a deadline.
        deadline = time.monotonic() + 60
        while True:
            q = json.loads(self.run([self.retas, "--json", "queue"], show=False).stdout)
            q = q.get("parameters", q)
            if q["waiting"] == 0 and q["uploading"] == 0 and q["acknowledged"] >= len(ENROL):
                break
            if time.monotonic() > deadline:
                raise SystemExit("demo: retasd did not upload within 60 s; see retasd.log")
            time.sleep(0.2)
        self.say(f"retasd uploaded by itself after {q['probes']} probes of head office")
        self.run([self.retas, "queue"])

    def head_office_after(self):
        self.step("Head office pulls the report; a receipt's QR code is scanned into issuance")
        for fmt in ("json", "pdf"):
            self.run([self.hq, "--dir", self.hqdir, "report", "pull", self.nomor,
                      "--format", fmt, "-o", os.path.join(self.out, f"laporan-hq.{fmt}")],
                     check=False, env=self.as_staff("bidang"))
        png = os.path.join(self.out, "resi-siswa-1.png")
        if os.path.exists(png) and shutil.which("zbarimg"):
            token = subprocess.run(["zbarimg", "--quiet", "--raw", png], capture_output=True,
                                   text=True).stdout.strip()
            self.say(f"$ zbarimg --raw resi-siswa-1.png  ->  a token of {len(token)} characters")
            self.run([self.hq, "--dir", self.hqdir, "issuance", "scan", token],
                     check=False, env=self.as_staff("fo"))

    def main(self):
        print(f"RETAS demo: BUILD={self.build}\n            DEMO={self.out}")
        try:
            self.head_office()
            self.van()
            self.network_down()
            self.enrol()
            self.close()
            self.network_up()
            self.head_office_after()
        finally:
            self.stop_all()
        print(f"\nThe demo is done. Letter, reports, test captures and logs are in:\n  {self.out}")


def main():
    if len(sys.argv) != 2:
        print("usage: demo.py BUILD_DIR", file=sys.stderr)
        return 2
    demo = Demo(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        demo.main()
    except KeyboardInterrupt:
        demo.stop_all()
        print("\ndemo: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
