#!/usr/bin/env python3
"""The student list: import (with refused rows by line and a dry run),
list with filters, absent and its undo, through retas and the raw API; and
the local index keeps no NIK or name in clear in the store's files."""
import glob
import json
import os

from harness import IFACE, DaemonTest, main
from students import CLASS, Student, csv_of


class Students(DaemonTest):
    def ready(self):
        self.d.start()
        letter = self.keys.letter("st.jws")
        self.assertCli(self.d.cli("assignment", "load", letter), 0)
        self.assertCli(self.login(), 0)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def listed(self, *flags):
        p = self.d.cli("--json", "students", "list", *flags)
        self.assertCli(p, 0)
        return json.loads(p.stdout)["parameters"]["students"]

    def test_students_import_list_and_absent(self):
        self.ready()
        path = self.write("kelas.csv", csv_of(CLASS, ";"))
        p = self.d.cli("students", "import", path, "--dry-run")
        self.assertCli(p, 0, "Dry run: 5 of 5 rows would be imported, 0 refused.")
        self.assertEqual(self.listed(), [])

        p = self.d.cli("students", "import", path)
        self.assertCli(p, 0, "5 of 5 rows imported, 0 refused.")
        rows = self.listed()
        self.assertEqual([r["nik"] for r in rows], [s.nik for s in CLASS])
        self.assertEqual([r["nama"] for r in rows], [s.nama for s in CLASS])
        self.assertEqual([r["status"] for r in rows], ["pending"] * 5)
        self.assertEqual([r["record_only"] for r in rows], [False, False, False, True, False])
        self.assertEqual(rows[3]["age"], 16)
        self.assertEqual(rows[3]["eligible_on"],
                         CLASS[3].birth.replace(year=CLASS[3].birth.year + 17).isoformat())
        self.assertEqual(rows[1]["jenis_kelamin"], "P")

        p = self.d.cli("students", "absent", CLASS[2].nik)
        self.assertCli(p, 0, f"Dedi Kurniawan ({CLASS[2].nik[:6]}******{CLASS[2].nik[-4:]}) marked absent.")
        self.assertEqual([r["nik"] for r in self.listed("--absent")], [CLASS[2].nik])
        self.assertEqual(len(self.listed("--pending")), 4)
        self.assertEqual(self.listed("--recorded"), [])
        self.assertEqual(self.listed("--exception"), [])
        p = self.d.cli("students", "list", "--absent")
        self.assertCli(p, 0, "Dedi Kurniawan")
        self.assertIn("1 students.", p.stdout)
        p = self.d.cli("students", "absent", CLASS[2].nik, "--undo")
        self.assertCli(p, 0, "is no longer marked absent.")
        self.assertEqual(self.listed("--absent"), [])

        # The same list again: every row is already listed, nothing changes.
        p = self.d.cli("students", "import", path)
        self.assertCli(p, 1, "0 of 5 rows imported, 5 refused.")
        self.assertIn("line 2: this NIK is already on the student list", p.stdout)
        self.assertEqual(len(self.listed()), 5)

    def test_students_import_reports_bad_rows_by_line(self):
        self.ready()
        good = Student("Budi Santoso", "L", 17, 11)
        young = Student("Adik Kecil", "L", 14, 12)
        wrong_gender = Student("Sari", "P", 17, 13)
        text = csv_of([good, young]) + wrong_gender.row().replace(",P,", ",L,") + "\n" + \
            good.row().replace("Budi Santoso", "Budi Lagi") + "\n" + \
            "1571011208090,Pendek,L,2009-08-12,XII\n"
        path = self.write("bad.csv", text)
        p = self.d.cli("students", "import", path, "--dry-run")
        self.assertCli(p, 1, "Dry run: 1 of 5 rows would be imported, 4 refused.")
        for line in (3, 4, 5, 6):
            self.assertIn(f"line {line}: ", p.stdout)
        self.assertEqual(self.listed(), [])
        with self.d.connect() as c:
            reply = c.call("ImportStudents", {"csv": text})
        params = reply["parameters"]
        self.assertEqual(params["imported"], 1)
        self.assertEqual(params["rows"], 5)
        self.assertEqual([i["line"] for i in params["issues"]], [3, 4, 5, 6])
        self.assertEqual(params["issues"][0]["reason"], "students.too-young")
        self.assertEqual(params["issues"][2]["reason"], "students.duplicate")
        self.assertEqual(params["issues"][3]["reason"], "nik.length")
        self.assertEqual([r["nik"] for r in self.listed()], [good.nik])

    def test_students_refusals(self):
        self.ready()
        self.assertCli(self.d.cli("students", "import", self.write("c.csv", csv_of(CLASS))), 0)
        reply = self.d.call("MarkAbsent", {"nik": "1571010101010009"})
        self.assertRefused(reply, "students.unknown")
        self.assertEqual(reply["parameters"]["args"], {"nik": "157101******0009"})
        p = self.d.cli("students", "absent", "1571010101010009",
                       env={"LC_ALL": "", "LANG": "id_ID.UTF-8"})
        self.assertCli(p, 1, err="NIK 157101******0009 tidak ada dalam daftar siswa.")
        reply = self.d.call("ImportStudents", {"csv": "\xff"})
        self.assertRefused(reply, "students.file")
        reply = self.d.call("ListStudents", {"filter": "everyone"})
        self.assertEqual(reply["error"], "org.varlink.service.InvalidParameter")
        self.assertCli(self.d.cli("students", "list", "--nobody"), 2)
        self.assertCli(self.d.cli("logout"), 0)
        self.assertRefused(self.d.call("ListStudents"), "login.required")

    def test_students_index_keeps_no_clear_nik_or_name(self):
        self.ready()
        self.assertCli(self.d.cli("students", "import", self.write("c.csv", csv_of(CLASS))), 0)
        self.assertCli(self.d.cli("students", "absent", CLASS[0].nik), 0)
        key = os.path.join(self.d.state, "local.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertEqual(os.path.getsize(key), 32)
        files = [f for f in glob.glob(os.path.join(self.d.state, "*")) if not f.endswith(".key")]
        self.assertTrue(any(f.endswith("-wal") for f in files), files)
        for f in files:
            with open(f, "rb") as fh:
                data = fh.read()
            for s in CLASS:
                self.assertNotIn(s.nik.encode(), data, f)
                self.assertNotIn(s.nik[6:12].encode() + s.nik[12:].encode(), data, f)
                self.assertNotIn(s.nama.encode(), data, f)
        # The key is what makes the index readable: after a restart the
        # same list is read back.
        self.d.stop()
        self.d.start()
        self.assertCli(self.login(), 0)
        self.assertEqual([r["nik"] for r in self.listed()], [s.nik for s in CLASS])


if __name__ == "__main__":
    main()
