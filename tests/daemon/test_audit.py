#!/usr/bin/env python3
"""retasd's audit log: every state change and refusal leaves a row with the
caller's uid and pid and no personal data in clear; the hash chain verifies
from the CLI and offline; a changed, deleted or reordered row is found."""
import json
import os
import sqlite3
import subprocess

from harness import (NIP, PIN, RETASD, WAIT, DaemonTest, main)


class Audit(DaemonTest):
    def db(self):
        return sqlite3.connect(os.path.join(self.d.state, "retasd.db"))

    def run_flow(self):
        self.d.start()
        self.assertCli(self.d.cli("assignment", "load", self.keys.letter("st.jws")), 0)
        self.assertCli(self.login(pin="000000"), 1)
        self.assertCli(self.login(), 0)
        self.assertCli(self.d.cli("session", "open"), 0)
        self.assertCli(self.d.cli("session", "close"), 0)
        self.assertCli(self.d.cli("logout"), 0)
        self.assertCli(self.d.cli("session", "open"), 1)

    def offline_verify(self):
        return subprocess.run([RETASD, "--config", self.d.conf, "--state-dir", self.d.state,
                               "--verify-audit"], capture_output=True, text=True, timeout=WAIT)

    def test_audit_rows_name_events_and_callers(self):
        self.run_flow()
        db = self.db()
        rows = db.execute("SELECT event, outcome, reason, uid, pid, detail FROM audit "
                          "ORDER BY id").fetchall()
        db.close()
        self.assertEqual([(r[0], r[1], r[2]) for r in rows], [
            ("LoadAssignment", "ok", ""),
            ("Login", "refused", "login.wrong-pin"),
            ("Login", "ok", ""),
            ("OpenSession", "ok", ""),
            ("CloseSession", "ok", ""),
            ("Logout", "ok", ""),
            ("OpenSession", "refused", "login.required"),
        ])
        for r in rows:
            self.assertEqual(r[3], os.getuid())
            self.assertGreater(r[4], 0)
            self.assertNotEqual(r[4], self.d.proc.pid)  # the CLI's pid, not the daemon's
        self.assertEqual(json.loads(rows[2][5]), {"petugas": 0})
        self.assertEqual(json.loads(rows[0][5])["nomor"], "800/041/DUKCAPIL/2026")

    def test_audit_no_personal_data_in_clear(self):
        self.run_flow()
        db = self.db()
        text = " ".join(str(c) for row in db.execute("SELECT * FROM audit") for c in row)
        db.close()
        for secret in (NIP, "Rina", "Marlina", PIN, "argon2"):
            self.assertNotIn(secret, text)

    def test_audit_chain_verifies(self):
        self.run_flow()
        p = self.d.cli("audit", "verify")
        self.assertCli(p, 0, "Audit log rows: 7")
        self.assertIn("Audit chain: intact", p.stdout)
        self.assertIn("Store integrity: ok", p.stdout)
        head = json.loads(self.d.cli("--json", "audit", "verify").stdout)["parameters"]["head"]
        self.d.stop()
        p = self.offline_verify()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"audit chain: ok, head {head}", p.stdout)

    def test_audit_append_only_in_the_schema(self):
        self.run_flow()
        self.d.stop()
        db = self.db()
        with self.assertRaisesRegex(sqlite3.DatabaseError, "append-only"):
            db.execute("UPDATE audit SET reason = 'x' WHERE id = 2")
        with self.assertRaisesRegex(sqlite3.DatabaseError, "append-only"):
            db.execute("DELETE FROM audit WHERE id = 2")
        db.close()

    def tamper(self, *sql):
        db = self.db()
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        for s in sql:
            db.execute(s)
        db.commit()
        db.close()

    def test_audit_tampered_row_detected(self):
        self.run_flow()
        self.d.stop()
        self.tamper("UPDATE audit SET reason = '' WHERE id = 2")
        p = self.offline_verify()
        self.assertEqual(p.returncode, 1)
        self.assertIn("audit chain: BROKEN at row 2 (hash)", p.stdout)
        self.d.start()
        p = self.d.cli("audit", "verify")
        self.assertCli(p, 1, "Audit chain: BROKEN at row 2 (hash)")

    def test_audit_deleted_row_detected(self):
        self.run_flow()
        self.d.stop()
        self.tamper("DELETE FROM audit WHERE id = 3")
        p = self.offline_verify()
        self.assertEqual(p.returncode, 1)
        self.assertIn("BROKEN at row 4 (sequence)", p.stdout)

    def test_audit_zeroed_hash_detected(self):
        self.run_flow()
        self.d.stop()
        self.tamper("UPDATE audit SET hash = zeroblob(32) WHERE id = 5")
        p = self.offline_verify()
        self.assertEqual(p.returncode, 1)
        self.assertIn("BROKEN at row 5 (hash)", p.stdout)

    def test_audit_moved_row_detected(self):
        self.run_flow()
        self.d.stop()
        self.tamper("UPDATE audit SET id = 100 WHERE id = 7",
                    "UPDATE audit SET id = 7 WHERE id = 6",
                    "UPDATE audit SET id = 6 WHERE id = 100")
        p = self.offline_verify()
        self.assertEqual(p.returncode, 1)
        self.assertIn("BROKEN at row 6", p.stdout)


if __name__ == "__main__":
    main()
