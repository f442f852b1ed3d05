#!/usr/bin/env python3
"""retasd end to end: the whole flow through the CLI (load letter -> login ->
open -> status -> close), its --json answers, the interface describing
itself, and the CLI speaking Indonesian."""
import json
import os
import stat
import subprocess

from harness import (IFACE, NIP, NIP2, PIN, PIN2, DaemonTest, main)


class Flow(DaemonTest):
    def test_flow_load_login_open_status_close(self):
        self.d.start()
        letter = self.keys.letter("st.jws")

        p = self.d.cli("status")
        self.assertCli(p, 0, "State: no surat tugas loaded")
        p = self.d.cli("assignment", "load", letter)
        self.assertCli(p, 0, "Surat tugas 800/041/DUKCAPIL/2026 loaded: SMA Negeri 1 Kota Jambi")
        p = self.d.cli("status")
        self.assertCli(p, 0, "State: surat tugas loaded, no session yet")
        self.assertIn("Officer: nobody logged in", p.stdout)

        p = self.login()
        self.assertCli(p, 0, f"Logged in: Rina Marlina (NIP {NIP}).")
        p = self.d.cli("session", "open")
        self.assertCli(p, 0, "opened at")
        self.assertIn("by Rina Marlina.", p.stdout)

        p = self.d.cli("--json", "status")
        self.assertCli(p, 0)
        st = json.loads(p.stdout)["parameters"]
        self.assertEqual(st["state"], "session-open")
        self.assertEqual(st["assignment"]["nomor"], "800/041/DUKCAPIL/2026")
        self.assertEqual(st["assignment"]["sekolah"]["npsn"], "10504187")
        self.assertEqual(st["login"]["officer"], {"nip": NIP, "nama": "Rina Marlina"})
        self.assertEqual(st["session"]["opened_by"]["nip"], NIP)
        self.assertNotIn("closed_at", st["session"])
        self.assertTrue(st["hq_key"])
        session_id = st["session"]["id"]
        self.assertRegex(session_id, r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

        p = self.d.cli("status")
        self.assertCli(p, 0, "State: session open")
        self.assertIn(f"Session: {session_id}, open since", p.stdout)

        p = self.d.cli("session", "close")
        self.assertCli(p, 0, f"Session {session_id} closed at")
        p = self.d.cli("--json", "status")
        st = json.loads(p.stdout)["parameters"]
        self.assertEqual(st["state"], "session-closed")
        self.assertEqual(st["session"]["closed_by"]["nip"], NIP)

        p = self.d.cli("logout")
        self.assertCli(p, 0, "Logged out.")
        p = self.d.cli("--json", "status")
        self.assertNotIn("login", json.loads(p.stdout)["parameters"])

    def test_flow_assignment_show_never_shows_pin_hashes(self):
        self.d.start()
        letter = self.keys.letter("st.jws", petugas=((NIP, "Rina Marlina", PIN),
                                                     (NIP2, "Budi Santoso", PIN2)))
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        p = self.d.cli("assignment", "show")
        self.assertCli(p, 0, "Number: 800/041/DUKCAPIL/2026")
        self.assertIn(f"Officer: {NIP} Rina Marlina", p.stdout)
        self.assertIn(f"Officer: {NIP2} Budi Santoso", p.stdout)
        self.assertIn("Van: MPK-01", p.stdout)
        p = self.d.cli("assignment", "show", "--json")
        self.assertCli(p, 0)
        self.assertNotIn("argon2", p.stdout)
        a = json.loads(p.stdout)["parameters"]["assignment"]
        self.assertEqual([o["nip"] for o in a["petugas"]], [NIP, NIP2])
        self.assertEqual(a["jari"], list(range(1, 11)))
        self.assertEqual(len(a["sha256"]), 64)

    def test_flow_second_officer_replaces_first(self):
        self.d.start()
        letter = self.keys.letter("st.jws", petugas=((NIP, "Rina Marlina", PIN),
                                                     (NIP2, "Budi Santoso", PIN2)))
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.login(NIP2, PIN2), 0, "Logged in: Budi Santoso")
        st = self.d.call("Status")["parameters"]
        self.assertEqual(st["login"]["officer"]["nip"], NIP2)

    def test_flow_same_letter_again_changes_nothing(self):
        self.d.start()
        letter = self.keys.letter("st.jws")
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        p = self.d.cli("--json", "assignment", "load", letter)
        self.assertCli(p, 0)
        self.assertFalse(json.loads(p.stdout)["parameters"]["replaced"])
        self.assertEqual(self.d.call("Status")["parameters"]["state"], "session-open")

    def test_flow_new_letter_replaces_and_logs_out(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("a.jws")), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        self.assertCli(self.d.cli("session", "close"), 0)
        b = self.keys.letter("b.jws", nomor="800/042/DUKCAPIL/2026")
        p = self.d.cli("assignment", "load", b)
        self.assertCli(p, 0, "It replaces the previous surat tugas.")
        st = self.d.call("Status")["parameters"]
        self.assertEqual(st["state"], "assignment-loaded")
        self.assertEqual(st["assignment"]["nomor"], "800/042/DUKCAPIL/2026")
        self.assertNotIn("login", st)

    def test_flow_socket_mode_and_device_key(self):
        self.d.start()
        self.assertEqual(stat.S_IMODE(os.stat(self.d.sock).st_mode), 0o660)
        key = os.path.join(self.d.state, "device.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        st = self.d.call("Status")["parameters"]
        self.assertRegex(st["device_key_id"], r"^[A-Za-z0-9_-]{16}$")
        # The same key after a restart: the van keeps its identity.
        self.d.stop()
        self.d.start()
        self.assertEqual(self.d.call("Status")["parameters"]["device_key_id"],
                         st["device_key_id"])

    def test_flow_interface_describes_itself(self):
        self.d.start()
        info = self.d.call("org.varlink.service.GetInfo")["parameters"]
        self.assertEqual(info["product"], "retasd")
        self.assertEqual(info["interfaces"], ["org.varlink.service", IFACE])
        desc = self.d.call("org.varlink.service.GetInterfaceDescription",
                           {"interface": IFACE})["parameters"]["description"]
        self.assertIn(f"interface {IFACE}\n", desc)
        for m in ("Status", "LoadAssignment", "ShowAssignment", "Login", "Logout",
                  "OpenSession", "CloseSession", "VerifyAudit"):
            self.assertIn(f"method {m}(", desc)
        self.assertIn("error Refused (reason: string, args: [string]string, message: string)",
                      desc)
        r = self.d.call("org.varlink.service.GetInterfaceDescription", {"interface": "no.such"})
        self.assertEqual(r["error"], "org.varlink.service.InterfaceNotFound")
        self.assertEqual(r["parameters"], {"interface": "no.such"})

    def test_flow_cli_unreachable_exits_3(self):
        p = self.d.cli("status")
        self.assertCli(p, 3, err=f"cannot reach retasd at {self.d.sock}")

    def test_flow_cli_usage(self):
        self.assertCli(self.d.cli("login"), 2, err="give the officer's NIP")
        self.assertCli(self.d.cli("login", "12345"), 2, err="a NIP is 18 digits")
        p = self.d.cli("login", NIP)  # no terminal in a test
        self.assertCli(p, 2, err="use --pin-stdin")
        self.assertCli(self.d.cli("assignment", "load"), 2, err="give exactly one FILE")
        self.assertCli(self.d.cli("status", "x"), 2, err="unexpected argument 'x'")

    def test_flow_cli_speaks_indonesian(self):
        locales = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
        if "id_ID.utf8" not in locales.split():
            self.skipTest("the id_ID.UTF-8 locale is not installed")
        self.d.start()
        env = {"LC_ALL": "", "LANG": "id_ID.UTF-8"}
        p = self.d.cli("status", env=env)
        self.assertCli(p, 0, "Keadaan: belum ada surat tugas")
        p = self.d.cli("session", "open", env=env)
        self.assertCli(p, 1, err="Belum ada petugas yang masuk")
        p = self.d.cli("login", NIP, "--pin-stdin", stdin=PIN + "\n", env=env)
        self.assertCli(p, 1, err="Belum ada surat tugas yang dimuat")


if __name__ == "__main__":
    main()
