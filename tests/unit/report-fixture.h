/*
 * The report tests' class of five, shared by the model and renderer tests:
 * one student recorded normally, one recorded with a bandaged finger, one
 * absent, one under 17 (record-only), one refused as already recorded.
 * Session 07:30-09:45 WIB on 24 November 2026, two device incidents.
 */
#pragma once

#include <stdio.h>
#include <string.h>

#include "retas-report.h"

#define FIX_SEKOLAH "SMA Negeri 1 Kota Jambi"
/* 2026-11-24T07:30:00+07:00 and 09:45 */
#define FIX_OPENED_MS 1795480200000LL
#define FIX_CLOSED_MS (FIX_OPENED_MS + 135 * 60000LL)

static const char *const fix_niks[5] = {
    "1571011208090001", /* Ahmad Fauzi, L */
    "1571025507090002", /* Siti Aminah, P, bandaged telunjuk kanan */
    "1571030101090003", /* Budi Santoso, L, absent */
    "1571024503100004", /* Dewi Lestari, P, under 17 */
    "1571041502090005", /* Rahmat Hidayat, L, already recorded */
};

static inline void fix_header(struct retas_report_header *h)
{
	retas_report_header_init(h);
	snprintf(h->st_nomor, sizeof(h->st_nomor), "800/041/DUKCAPIL/2026");
	h->st_tanggal = (struct retas_date){2026, 11, 20};
	snprintf(h->npsn, sizeof(h->npsn), "10504187");
	snprintf(h->sekolah, sizeof(h->sekolah), FIX_SEKOLAH);
	snprintf(h->kecamatan, sizeof(h->kecamatan), "157101");
	snprintf(h->kecamatan_nama, sizeof(h->kecamatan_nama), "Telanaipura");
	h->n_petugas = 2;
	snprintf(h->petugas[0].nip, sizeof(h->petugas[0].nip), "198703152010011002");
	snprintf(h->petugas[0].nama, sizeof(h->petugas[0].nama), "Rina Marlina");
	snprintf(h->petugas[1].nip, sizeof(h->petugas[1].nip), "199001012015031004");
	snprintf(h->petugas[1].nama, sizeof(h->petugas[1].nama), "Andi Saputra");
	snprintf(h->van, sizeof(h->van), "MPK-01");
	h->tanggal = (struct retas_date){2026, 11, 24};
	h->opened_ms = FIX_OPENED_MS;
	h->closed_ms = FIX_CLOSED_MS;
}

static inline void fix_student(struct retas_report_student *s, const char *nik, const char *nama,
			       char g, enum retas_report_status st)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->nik, sizeof(s->nik), "%s", nik);
	s->nama = (char *)nama;
	s->kelas = (char *)"XII IPA 1";
	s->gender = (enum retas_gender)g;
	s->on_list = true;
	s->status = st;
	for (int f = 0; f < RETAS_FINGERS; f++)
		s->quality[f] = -1;
}

static inline void fix_record(struct retas_report_student *s, int n, int base)
{
	snprintf(s->record_id, sizeof(s->record_id), "01936f7a-8c00-7000-8000-%012d", n);
	for (int f = 0; f < RETAS_FINGERS; f++)
		s->quality[f] = base + f;
}

/* Builds the class of five; returns the new report. */
static inline struct retas_report *fix_class_of_five(void)
{
	struct retas_report_header h;
	struct retas_report_student s;
	struct retas_report_incident inc;
	struct retas_report *r = NULL;
	struct retas_error e = {0};
	int ok = 0;

	fix_header(&h);
	if (retas_report_new(&h, &r, &e) < 0)
		return NULL;

	fix_student(&s, fix_niks[0], "Ahmad Fauzi", 'L', RETAS_REPORT_RECORDED);
	fix_record(&s, 1, 60);
	ok |= retas_report_add_student(r, &s, &e);

	fix_student(&s, fix_niks[1], "Siti Aminah", 'P', RETAS_REPORT_RECORDED);
	fix_record(&s, 2, 70);
	s.n_exceptions = 1;
	s.exceptions[0] = (struct retas_report_exception){2, RETAS_FINGER_BANDAGED};
	s.quality[1] = -1;
	ok |= retas_report_add_student(r, &s, &e);

	fix_student(&s, fix_niks[2], "Budi Santoso", 'L', RETAS_REPORT_ABSENT);
	s.kelas = (char *)"XII IPS 2";
	ok |= retas_report_add_student(r, &s, &e);

	fix_student(&s, fix_niks[3], "Dewi Lestari", 'P', RETAS_REPORT_RECORDED);
	fix_record(&s, 4, 50);
	s.kelas = (char *)"XI IPA 3";
	s.record_only = true;
	s.eligible_on = (struct retas_date){2027, 3, 5};
	ok |= retas_report_add_student(r, &s, &e);

	fix_student(&s, fix_niks[4], "Rahmat Hidayat", 'L', RETAS_REPORT_ALREADY_RECORDED);
	ok |= retas_report_add_student(r, &s, &e);

	inc = (struct retas_report_incident){.at_ms = FIX_OPENED_MS + 20 * 60000LL,
					     .what = (char *)"reader did not answer; reconnected"};
	snprintf(inc.device, sizeof(inc.device), "fingerprint");
	ok |= retas_report_add_incident(r, &inc, &e);
	inc.at_ms += 45 * 60000LL;
	inc.what = (char *)"capture timed out, retaken";
	snprintf(inc.device, sizeof(inc.device), "camera");
	ok |= retas_report_add_incident(r, &inc, &e);
	if (ok) {
		fprintf(stderr, "fixture: %s: %s\n", e.reason, e.message);
		retas_report_free(r);
		return NULL;
	}
	return r;
}
