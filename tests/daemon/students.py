"""A class of students for the enrolment tests: NIKs built from birth
dates relative to today, so ages on the session date are what the test
says whatever day it runs."""
import datetime


def nik_for(birth, gender, serial, district="157101"):
    day = birth.day + (40 if gender == "P" else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def birth_aged(years, days_after=10):
    """A birth date on which someone is `years` old today (not a birthday
    within days_after days either way)."""
    today = datetime.date.today()
    d = today - datetime.timedelta(days=days_after)
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return (d - datetime.timedelta(days=1)).replace(year=d.year - years)


class Student:
    def __init__(self, nama, gender, age, serial, kelas="XII IPA 1"):
        self.nama = nama
        self.gender = gender
        self.birth = birth_aged(age)
        self.nik = nik_for(self.birth, gender, serial)
        self.kelas = kelas

    def row(self, sep=","):
        return sep.join([self.nik, self.nama, self.gender, self.birth.isoformat(), self.kelas])


CLASS = [
    Student("Ahmad Fauzi", "L", 17, 1),
    Student("Siti Rahmawati", "P", 17, 2),
    Student("Dedi Kurniawan", "L", 18, 3),
    Student("Putri Lestari", "P", 16, 4),
    Student("Rizky Pratama", "L", 17, 5),
]


def csv_of(students, sep=","):
    head = sep.join(["NIK", "Nama", "Jenis Kelamin", "Tanggal Lahir", "Kelas"])
    return "\n".join([head] + [s.row(sep) for s in students]) + "\n"
