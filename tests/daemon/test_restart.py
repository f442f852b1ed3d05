#!/usr/bin/env python3
"""retasd across restarts and signals: the state (letter, login, session)
and a lockout survive a restart; SIGHUP reloads the configuration; SIGINT
and SIGTERM stop cleanly; a second daemon on the same state or socket is
refused; a stale socket file is replaced."""
import os
import signal
import socket
import subprocess

from harness import (NIP, PIN, RETASD, WAIT, Daemon, DaemonTest, conf_text, main)


class Restart(DaemonTest):
    sets = ("login.lockout=60",)

    def test_restart_keeps_state(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        before = self.d.call("Status")["parameters"]
        self.d.stop()
        self.d.start()
        after = self.d.call("Status")["parameters"]
        for key in ("state", "assignment", "login", "session", "device_key_id"):
            self.assertEqual(after[key], before[key], key)
        # The login still acts after the restart.
        self.assertCli(self.d.cli("session", "close"), 0)
        self.d.stop(signal.SIGINT)
        self.d.start()
        self.assertEqual(self.d.call("Status")["parameters"]["state"], "session-closed")

    def test_restart_keeps_lockout(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        for _ in range(5):
            self.d.call("Login", {"nip": NIP, "pin": "000000"})
        self.d.stop()
        self.d.start()
        self.assertRefused(self.d.call("Login", {"nip": NIP, "pin": PIN}), "login.locked")
        # Restarted with the clock past the lockout, the NIP is free again.
        self.d.stop()
        self.d.start(sets=list(self.sets) + ["clock.offset=61"])
        self.assertCli(self.login(), 0)

    def test_restart_idle_login_ends_at_start(self):
        self.d.start(sets=["login.idle_timeout=60"])
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(), 0)
        self.d.stop()
        self.d.start(sets=["login.idle_timeout=60", "clock.offset=120"])
        self.assertNotIn("login", self.d.call("Status")["parameters"])

    def test_restart_reload_applies_new_key(self):
        # Started without a trusted key, the daemon cannot load letters;
        # SIGHUP with the key in the file fixes that without a restart.
        with open(self.d.conf, "w") as f:
            f.write("")
        self.d.start()
        letter = open(self.keys.letter("st.jws")).read()
        self.assertRefused(self.d.call("LoadAssignment", {"token": letter}),
                           "assignment.no-hq-key")
        self.d.reload(conf_text(self.keys.hq_pub))
        r = self.d.call("LoadAssignment", {"token": letter})
        self.assertEqual(r["parameters"]["assignment"]["nomor"], "800/041/DUKCAPIL/2026", r)

    def test_restart_reload_with_bad_config_keeps_running(self):
        self.d.start()
        msg = self.d.reload("[login]\nlockout = soon\n")
        self.assertIn("STATUS=Reload failed", msg)
        self.assertIn("login.lockout: expected a whole number", self.d.read_log())
        self.assertTrue(self.d.call("Status")["parameters"]["hq_key"])

    def test_restart_second_daemon_refused(self):
        self.d.start()
        # Same state directory, other socket: the state lock refuses it.
        p = subprocess.run([RETASD, "--config", self.d.conf, "--state-dir", self.d.state,
                            "--socket", os.path.join(self.tmp, "other.sock")],
                           capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is in use by another retasd", p.stderr)
        # Same socket, other state: the live socket is not stolen.
        p = subprocess.run([RETASD, "--config", self.d.conf,
                            "--state-dir", os.path.join(self.tmp, "state2"),
                            "--socket", self.d.sock],
                           capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 1)
        self.assertIn("another retasd is listening there", p.stderr)
        self.assertEqual(self.d.call("Status")["parameters"]["state"], "no-assignment")

    def test_restart_replaces_stale_socket(self):
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(self.d.sock)
        stale.close()  # the file stays, nobody listens
        self.d.start()
        self.assertEqual(self.d.call("Status")["parameters"]["state"], "no-assignment")

    def test_restart_removes_socket_on_stop(self):
        self.d.start()
        self.d.stop()
        self.assertFalse(os.path.exists(self.d.sock))


if __name__ == "__main__":
    main()
