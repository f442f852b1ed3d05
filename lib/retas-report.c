/*
 * The Draft Laporan RETAS model: building it row by row with every row
 * checked on the way in, the counts derived from the rows, and its JSON and
 * CSV forms. The JSON reader is the way head office takes a van's draft in,
 * so it trusts nothing: each member is checked for presence and type, the
 * rows go through the same checks as when they were built, and the summary
 * the van computed must match the one computed here.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-report.h"
#include "retas-util.h"
#include "retas-uuid.h"

static const char *const status_ids[RETAS_REPORT_N_STATUS] = {
    [RETAS_REPORT_PENDING] = "pending",
    [RETAS_REPORT_RECORDED] = "recorded",
    [RETAS_REPORT_ABSENT] = "absent",
    [RETAS_REPORT_INVALID_NIK] = "invalid-nik",
    [RETAS_REPORT_ALREADY_RECORDED] = "already-recorded",
    [RETAS_REPORT_REFUSED] = "refused",
    [RETAS_REPORT_DEVICE_FAILURE] = "device-failure",
};

static const char *const status_labels[RETAS_REPORT_N_STATUS] = {
    [RETAS_REPORT_PENDING] = "Belum ditangani",
    [RETAS_REPORT_RECORDED] = "Direkam",
    [RETAS_REPORT_ABSENT] = "Tidak hadir",
    [RETAS_REPORT_INVALID_NIK] = "NIK tidak valid",
    [RETAS_REPORT_ALREADY_RECORDED] = "Sudah direkam",
    [RETAS_REPORT_REFUSED] = "Menolak",
    [RETAS_REPORT_DEVICE_FAILURE] = "Gangguan perangkat",
};

static const char *const reason_ids[RETAS_FINGER_N_REASONS] = {
    [RETAS_FINGER_MISSING] = "missing",
    [RETAS_FINGER_BANDAGED] = "bandaged",
    [RETAS_FINGER_SCARRED] = "scarred",
    [RETAS_FINGER_UNREADABLE] = "unreadable",
};

static const char *const reason_labels[RETAS_FINGER_N_REASONS] = {
    [RETAS_FINGER_MISSING] = "tidak ada",
    [RETAS_FINGER_BANDAGED] = "diperban",
    [RETAS_FINGER_SCARRED] = "bekas luka",
    [RETAS_FINGER_UNREADABLE] = "tidak terbaca",
};

/* ISO/IEC 19794-4 finger positions 1..10. */
static const char *const finger_labels[RETAS_FINGERS] = {
    "ibu jari kanan", "telunjuk kanan", "jari tengah kanan", "jari manis kanan", "kelingking kanan",
    "ibu jari kiri",  "telunjuk kiri",	"jari tengah kiri",  "jari manis kiri",	 "kelingking kiri",
};

static const struct {
	const char *id, *label;
} device_labels[] = {
    {"fingerprint", "Pemindai sidik jari"},
    {"camera", "Kamera"},
    {"signature", "Alat tanda tangan"},
    {"printer", "Printer"},
    {"storage", "Penyimpanan"},
    {"power", "Daya listrik"},
};

const char *retas_report_status_id(enum retas_report_status s)
{
	return (unsigned)s < RETAS_REPORT_N_STATUS ? status_ids[s] : NULL;
}

int retas_report_status_from_id(const char *id)
{
	for (int i = 0; i < RETAS_REPORT_N_STATUS; i++)
		if (id && streq(id, status_ids[i]))
			return i;
	return -1;
}

const char *retas_finger_reason_id(enum retas_finger_reason r)
{
	return (unsigned)r < RETAS_FINGER_N_REASONS ? reason_ids[r] : NULL;
}

int retas_finger_reason_from_id(const char *id)
{
	for (int i = 0; i < RETAS_FINGER_N_REASONS; i++)
		if (id && streq(id, reason_ids[i]))
			return i;
	return -1;
}

const char *retas_finger_label(int finger)
{
	return finger >= 1 && finger <= RETAS_FINGERS ? finger_labels[finger - 1] : NULL;
}

const char *retas_finger_reason_label(enum retas_finger_reason r)
{
	return (unsigned)r < RETAS_FINGER_N_REASONS ? reason_labels[r] : NULL;
}

const char *retas_report_row_status(const struct retas_report_student *s)
{
	if (s->status != RETAS_REPORT_RECORDED)
		return retas_report_status_id(s->status);
	if (s->record_only)
		return "record-only";
	if (s->n_exceptions > 0)
		return "exception";
	return "recorded";
}

const char *retas_report_status_label(const struct retas_report_student *s)
{
	if (s->status != RETAS_REPORT_RECORDED)
		return (unsigned)s->status < RETAS_REPORT_N_STATUS ? status_labels[s->status]
								   : NULL;
	if (s->record_only)
		return "Direkam (rekam saja)";
	if (s->n_exceptions > 0)
		return "Direkam (pengecualian)";
	return "Direkam";
}

const char *retas_device_label(const char *device)
{
	for (size_t i = 0; i < ARRAY_SIZE(device_labels); i++)
		if (streq(device, device_labels[i].id))
			return device_labels[i].label;
	return device;
}

/* --- checks shared by the builder and the JSON reader ------------------ */

bool retas_report_text_ok(const char *s, size_t max, bool allow_empty)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, max + 1);
	if (len > max || (len == 0 && !allow_empty))
		return false;
	return retas_utf8_valid(s, len, false);
}

/* A NUL-terminated array member: the NUL must be inside the array. */
static bool field_ok(const char *s, size_t size, bool allow_empty)
{
	return memchr(s, '\0', size) && retas_report_text_ok(s, size - 1, allow_empty);
}

static bool digits(const char *s, size_t n)
{
	if (strnlen(s, n + 1) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool date_ok(const struct retas_date *d)
{
	return retas_date_is_valid(d->year, d->month, d->day);
}

bool retas_nik_is_masked(const char *s)
{
	if (strnlen(s, 17) != 16)
		return false;
	if (strspn(s, "*") == 16)
		return true;
	for (int i = 0; i < 16; i++) {
		bool star = i >= 6 && i < 12;

		if (star ? s[i] != '*' : (s[i] < '0' || s[i] > '9'))
			return false;
	}
	return true;
}

static bool device_ok(const char *s, size_t size)
{
	size_t len = strnlen(s, size);

	if (len == 0 || len == size)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static int check_header(const struct retas_report_header *h, struct retas_error *err)
{
	if (!field_ok(h->dinas, sizeof(h->dinas), false))
		return retas_error_set(err, -EINVAL, "report.dinas",
				       N_("The report's Dinas name is empty or not valid text."));
	if (!field_ok(h->bidang, sizeof(h->bidang), false))
		return retas_error_set(err, -EINVAL, "report.bidang",
				       N_("The report's Bidang name is empty or not valid text."));
	if (!field_ok(h->st_nomor, sizeof(h->st_nomor), false))
		return retas_error_set(err, -EINVAL, "report.st-nomor",
				       N_("The surat tugas number is empty or not valid text."));
	if (!date_ok(&h->st_tanggal))
		return retas_error_set(err, -EINVAL, "report.st-tanggal",
				       N_("The surat tugas date is not a real date."));
	if (!digits(h->npsn, 8))
		return retas_error_set(err, -EINVAL, "report.npsn",
				       N_("The school's NPSN is not 8 digits."));
	if (!field_ok(h->sekolah, sizeof(h->sekolah), false))
		return retas_error_set(err, -EINVAL, "report.sekolah",
				       N_("The school's name is empty or not valid text."));
	if (!digits(h->kecamatan, 6))
		return retas_error_set(err, -EINVAL, "report.kecamatan",
				       N_("The kecamatan code is not 6 digits."));
	if (!field_ok(h->kecamatan_nama, sizeof(h->kecamatan_nama), false))
		return retas_error_set(err, -EINVAL, "report.kecamatan-nama",
				       N_("The kecamatan name is empty or not valid text."));
	if (h->n_petugas < 1 || h->n_petugas > RETAS_REPORT_MAX_OFFICERS)
		return retas_error_set(err, -EINVAL, "report.petugas",
				       N_("A report names 1 to %d officers, not %zu."),
				       RETAS_REPORT_MAX_OFFICERS, h->n_petugas);
	for (size_t i = 0; i < h->n_petugas; i++) {
		if (!digits(h->petugas[i].nip, 18))
			return retas_error_set(err, -EINVAL, "report.nip",
					       N_("Officer %zu's NIP is not 18 digits."), i + 1);
		if (!field_ok(h->petugas[i].nama, sizeof(h->petugas[i].nama), false))
			return retas_error_set(err, -EINVAL, "report.petugas",
					       N_("Officer %zu's name is empty or not valid text."),
					       i + 1);
	}
	if (!field_ok(h->van, sizeof(h->van), false))
		return retas_error_set(err, -EINVAL, "report.van",
				       N_("The van id is empty or not valid text."));
	if (!date_ok(&h->tanggal))
		return retas_error_set(err, -EINVAL, "report.tanggal",
				       N_("The session date is not a real date."));
	if (h->opened_ms < 0 || h->closed_ms < 0 || (h->opened_ms == 0 && h->closed_ms != 0) ||
	    (h->closed_ms != 0 && h->closed_ms < h->opened_ms))
		return retas_error_set(err, -EINVAL, "report.session",
				       N_("The session's closing time is before its opening time "
					  "or it was closed without being opened."));
	if (h->sop_minutes < 1 || h->sop_minutes > 24 * 60)
		return retas_error_set(err, -EINVAL, "report.sop",
				       N_("The SOP time standard must be 1 to 1440 minutes."));
	return 0;
}

static int check_student(const struct retas_report_header *h, const struct retas_report_student *s,
			 struct retas_error *err)
{
	bool recorded = s->status == RETAS_REPORT_RECORDED;
	bool seen[RETAS_FINGERS] = {0};

	if (!retas_report_text_ok(s->nama, RETAS_REPORT_NAME_MAX, false))
		return retas_error_set(err, -EINVAL, "report.nama",
				       N_("The student's name is empty, longer than %d bytes or "
					  "not valid text."),
				       RETAS_REPORT_NAME_MAX);
	if (!retas_report_text_ok(s->kelas ? s->kelas : "", RETAS_REPORT_KELAS_MAX, true))
		return retas_error_set(err, -EINVAL, "report.kelas",
				       N_("The class is longer than %d bytes or not valid text."),
				       RETAS_REPORT_KELAS_MAX);
	if ((unsigned)s->status >= RETAS_REPORT_N_STATUS)
		return retas_error_set(err, -EINVAL, "report.status",
				       N_("The student's status is not one the report knows."));
	/* Only a NIK that could not be read leaves the gender unknown. */
	if (s->gender != RETAS_GENDER_MALE && s->gender != RETAS_GENDER_FEMALE &&
	    !(s->gender == RETAS_GENDER_UNKNOWN && s->status == RETAS_REPORT_INVALID_NIK))
		return retas_error_set(err, -EINVAL, "report.gender",
				       N_("The student's gender must be L or P."));
	if (recorded) {
		uint8_t id[16];

		if (!memchr(s->record_id, '\0', sizeof(s->record_id)) ||
		    retas_uuid_parse(s->record_id, id) < 0)
			return retas_error_set(err, -EINVAL, "report.record-id",
					       N_("A recorded student needs the UUID of the "
						  "record."));
	} else if (s->record_id[0]) {
		return retas_error_set(err, -EINVAL, "report.record-id",
				       N_("Only a recorded student has a record id."));
	}
	if (s->record_only) {
		if (!date_ok(&s->eligible_on) || retas_date_cmp(&s->eligible_on, &h->tanggal) <= 0)
			return retas_error_set(err, -EINVAL, "report.eligible",
					       N_("A record-only student needs the date they "
						  "turn 17, after the session date."));
	} else if (s->eligible_on.year || s->eligible_on.month || s->eligible_on.day) {
		return retas_error_set(err, -EINVAL, "report.eligible",
				       N_("Only a record-only student has an eligibility "
					  "date."));
	}
	if (s->n_exceptions > RETAS_FINGERS || (s->n_exceptions && !recorded))
		return retas_error_set(err, -EINVAL, "report.exception",
				       N_("Only a recorded student has finger exceptions, "
					  "at most one per finger."));
	for (size_t i = 0; i < s->n_exceptions; i++) {
		int f = s->exceptions[i].finger;

		if (f < 1 || f > RETAS_FINGERS || seen[f - 1] ||
		    (unsigned)s->exceptions[i].reason >= RETAS_FINGER_N_REASONS)
			return retas_error_set(err, -EINVAL, "report.exception",
					       N_("Exception %zu names no finger 1-10, a finger "
						  "twice, or an unknown reason."),
					       i + 1);
		seen[f - 1] = true;
	}
	for (int f = 0; f < RETAS_FINGERS; f++) {
		int q = s->quality[f];

		if (q == -1)
			continue;
		if (q < 0 || q > 100 || !recorded || seen[f])
			return retas_error_set(err, -EINVAL, "report.quality",
					       N_("The quality score of finger %d must be 0-100, "
						  "on a recorded finger that is not an "
						  "exception."),
					       f + 1);
	}
	return 0;
}

/* --- building ----------------------------------------------------------- */

void retas_report_header_init(struct retas_report_header *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dinas, sizeof(h->dinas), "%s", RETAS_REPORT_DINAS);
	snprintf(h->bidang, sizeof(h->bidang), "%s", RETAS_REPORT_BIDANG);
	h->sop_minutes = RETAS_REPORT_SOP_MINUTES;
}

/* Copies a checked header into a zeroed one, so the bytes after each
 * string's NUL are zero and headers compare field by field. */
static void header_copy(struct retas_report_header *dst, const struct retas_report_header *src)
{
	memset(dst, 0, sizeof(*dst));
#define COPY(f) snprintf(dst->f, sizeof(dst->f), "%s", src->f)
	COPY(dinas);
	COPY(bidang);
	COPY(st_nomor);
	COPY(npsn);
	COPY(sekolah);
	COPY(kecamatan);
	COPY(kecamatan_nama);
	COPY(van);
	for (size_t i = 0; i < src->n_petugas; i++) {
		COPY(petugas[i].nip);
		COPY(petugas[i].nama);
	}
#undef COPY
	dst->st_tanggal = src->st_tanggal;
	dst->n_petugas = src->n_petugas;
	dst->tanggal = src->tanggal;
	dst->opened_ms = src->opened_ms;
	dst->closed_ms = src->closed_ms;
	dst->sop_minutes = src->sop_minutes;
}

int retas_report_new(const struct retas_report_header *h, struct retas_report **out,
		     struct retas_error *err)
{
	struct retas_report *r;
	int res;

	res = check_header(h, err);
	if (res < 0)
		return res;
	r = calloc(1, sizeof(*r));
	if (!r)
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	header_copy(&r->h, h);
	*out = r;
	return 0;
}

static void student_clear(struct retas_report_student *s)
{
	free(s->nama);
	free(s->kelas);
}

void retas_report_free(struct retas_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_students; i++)
		student_clear(&r->students[i]);
	for (size_t i = 0; i < r->n_incidents; i++)
		free(r->incidents[i].what);
	free(r->students);
	free(r->incidents);
	free(r);
}

static int grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t ncap;
	void *na;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -E2BIG;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > max)
		ncap = max;
	na = realloc(*arr, ncap * size);
	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}

int retas_report_add_student(struct retas_report *r, const struct retas_report_student *s,
			     struct retas_error *err)
{
	struct retas_report_student *d;
	int res;

	res = check_student(&r->h, s, err);
	if (res < 0)
		return res;
	res = grow((void **)&r->students, &r->cap_students, r->n_students, sizeof(*r->students),
		   RETAS_REPORT_MAX_STUDENTS);
	if (res == -E2BIG)
		return retas_error_set(err, res, "report.students",
				       N_("A report holds at most %d students."),
				       RETAS_REPORT_MAX_STUDENTS);
	if (res < 0)
		return retas_error_set(err, res, "report.memory", N_("Out of memory."));
	d = &r->students[r->n_students];
	*d = *s;
	/* A NIK already masked stays as it is; sixteen digits are masked
	 * here; anything else is masked whole. */
	if (!retas_nik_is_masked(s->nik))
		retas_nik_mask(digits(s->nik, 16) ? s->nik : "", d->nik);
	memset(d->record_id, 0, sizeof(d->record_id));
	snprintf(d->record_id, sizeof(d->record_id), "%s", s->record_id);
	memset(d->exceptions + s->n_exceptions, 0,
	       (RETAS_FINGERS - s->n_exceptions) * sizeof(d->exceptions[0]));
	d->nama = strdup(s->nama);
	d->kelas = strdup(s->kelas ? s->kelas : "");
	if (!d->nama || !d->kelas) {
		student_clear(d);
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	}
	r->n_students++;
	return 0;
}

int retas_report_add_incident(struct retas_report *r, const struct retas_report_incident *inc,
			      struct retas_error *err)
{
	struct retas_report_incident *d;
	int res;

	if (inc->at_ms <= 0 || !device_ok(inc->device, sizeof(inc->device)) ||
	    !retas_report_text_ok(inc->what, RETAS_REPORT_WHAT_MAX, false))
		return retas_error_set(err, -EINVAL, "report.incident",
				       N_("A device incident needs a time, a device class "
					  "(lowercase letters, digits, '-') and a description of "
					  "at most %d bytes."),
				       RETAS_REPORT_WHAT_MAX);
	res = grow((void **)&r->incidents, &r->cap_incidents, r->n_incidents, sizeof(*r->incidents),
		   RETAS_REPORT_MAX_INCIDENTS);
	if (res == -E2BIG)
		return retas_error_set(err, res, "report.incidents",
				       N_("A report holds at most %d device incidents."),
				       RETAS_REPORT_MAX_INCIDENTS);
	if (res < 0)
		return retas_error_set(err, res, "report.memory", N_("Out of memory."));
	d = &r->incidents[r->n_incidents];
	memset(d, 0, sizeof(*d));
	d->at_ms = inc->at_ms;
	snprintf(d->device, sizeof(d->device), "%s", inc->device);
	d->what = strdup(inc->what);
	if (!d->what)
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	r->n_incidents++;
	return 0;
}

/* --- counts -------------------------------------------------------------- */

void retas_report_counts(const struct retas_report *r, struct retas_report_counts *out)
{
	struct retas_report_counts c;

	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < r->n_students; i++) {
		const struct retas_report_student *s = &r->students[i];
		bool rec = s->status == RETAS_REPORT_RECORDED;
		struct retas_report_band *g = s->gender == RETAS_GENDER_MALE	 ? &c.male
					      : s->gender == RETAS_GENDER_FEMALE ? &c.female
										 : NULL;
		struct retas_report_band *a = s->record_only ? &c.record_only : &c.print_eligible;

		c.by_status[s->status]++;
		if (s->on_list) {
			c.total.target++;
			a->target++;
			if (g)
				g->target++;
		}
		if (!rec)
			continue;
		c.total.recorded++;
		a->recorded++;
		if (g)
			g->recorded++;
		if (!s->on_list)
			c.added++;
		if (s->n_exceptions)
			c.with_exception++;
		for (size_t k = 0; k < s->n_exceptions; k++) {
			c.exceptions[s->exceptions[k].finger - 1][s->exceptions[k].reason]++;
			c.exceptions_total++;
		}
		for (int f = 0; f < RETAS_FINGERS; f++) {
			struct retas_report_quality *q = &c.quality[f];
			int v = s->quality[f];

			if (v < 0)
				continue;
			if (q->count == 0 || v < q->min)
				q->min = v;
			if (q->count == 0 || v > q->max)
				q->max = v;
			q->count++;
			q->sum += (unsigned)v;
		}
	}
	for (int st = RETAS_REPORT_ABSENT; st < RETAS_REPORT_N_STATUS; st++)
		c.not_recorded += c.by_status[st];
	c.duration_min =
	    r->h.opened_ms && r->h.closed_ms ? (r->h.closed_ms - r->h.opened_ms) / 60000 : -1;
	c.standard_min = (int64_t)r->h.sop_minutes * c.total.recorded;
	*out = c;
}

static bool student_equal(const struct retas_report_student *a,
			  const struct retas_report_student *b)
{
	if (!streq(a->nik, b->nik) || !streq(a->nama, b->nama) || !streq(a->kelas, b->kelas) ||
	    a->gender != b->gender || a->on_list != b->on_list ||
	    a->record_only != b->record_only || retas_date_cmp(&a->eligible_on, &b->eligible_on) ||
	    a->status != b->status || !streq(a->record_id, b->record_id) ||
	    a->n_exceptions != b->n_exceptions)
		return false;
	for (size_t k = 0; k < a->n_exceptions; k++)
		if (a->exceptions[k].finger != b->exceptions[k].finger ||
		    a->exceptions[k].reason != b->exceptions[k].reason)
			return false;
	return memcmp(a->quality, b->quality, sizeof(a->quality)) == 0;
}

bool retas_report_equal(const struct retas_report *a, const struct retas_report *b)
{
	const struct retas_report_header *x = &a->h, *y = &b->h;

	if (!streq(x->dinas, y->dinas) || !streq(x->bidang, y->bidang) ||
	    !streq(x->st_nomor, y->st_nomor) || retas_date_cmp(&x->st_tanggal, &y->st_tanggal) ||
	    !streq(x->npsn, y->npsn) || !streq(x->sekolah, y->sekolah) ||
	    !streq(x->kecamatan, y->kecamatan) || !streq(x->kecamatan_nama, y->kecamatan_nama) ||
	    x->n_petugas != y->n_petugas || !streq(x->van, y->van) ||
	    retas_date_cmp(&x->tanggal, &y->tanggal) || x->opened_ms != y->opened_ms ||
	    x->closed_ms != y->closed_ms || x->sop_minutes != y->sop_minutes)
		return false;
	for (size_t i = 0; i < x->n_petugas; i++)
		if (!streq(x->petugas[i].nip, y->petugas[i].nip) ||
		    !streq(x->petugas[i].nama, y->petugas[i].nama))
			return false;
	if (a->n_students != b->n_students || a->n_incidents != b->n_incidents)
		return false;
	for (size_t i = 0; i < a->n_students; i++)
		if (!student_equal(&a->students[i], &b->students[i]))
			return false;
	for (size_t i = 0; i < a->n_incidents; i++)
		if (a->incidents[i].at_ms != b->incidents[i].at_ms ||
		    !streq(a->incidents[i].device, b->incidents[i].device) ||
		    !streq(a->incidents[i].what, b->incidents[i].what))
			return false;
	return true;
}

/* --- JSON out ------------------------------------------------------------ */

/* json-c's add functions take ownership of the value even on failure, so a
 * NULL value is the only error to watch for; it is caught by checking
 * every constructor's result through these helpers. */
static bool add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return false;
	return json_object_object_add(o, key, v) == 0;
}

static bool push(json_object *a, json_object *v)
{
	if (!v)
		return false;
	return json_object_array_add(a, v) == 0;
}

static json_object *jdate(const struct retas_date *d)
{
	char buf[16];

	retas_date_format(d, buf);
	return json_object_new_string(buf);
}

/* Adds key: v when present, key: null otherwise; a present value that
 * could not be made (NULL) is a failure. */
static bool add_opt(json_object *o, const char *key, bool present, json_object *v)
{
	if (present && !v)
		return false;
	return json_object_object_add(o, key, v) == 0;
}

/* Instants go out at WIB; 0 ("not yet") is null. */
static bool add_time(json_object *o, const char *key, int64_t ms)
{
	char buf[RETAS_RFC3339_MAX];

	if (ms == 0)
		return add_opt(o, key, false, NULL);
	retas_time_format_rfc3339(ms, RETAS_WIB_OFFSET_MIN, buf);
	return add(o, key, json_object_new_string(buf));
}

static json_object *band_json(const struct retas_report_counts *c, bool recorded)
{
	json_object *o = json_object_new_object();
	bool ok = o != NULL;

#define B(key, band)                                                                               \
	ok = ok && add(o, key, json_object_new_int64(recorded ? c->band.recorded : c->band.target))
	B("total", total);
	B("L", male);
	B("P", female);
	B("rekam_saja", record_only);
	B("layak_cetak", print_eligible);
#undef B
	if (recorded)
		ok = ok && add(o, "tambahan", json_object_new_int64(c->added));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The mean to one decimal, with the text it is written as, so a reader
 * that compares numbers and a reader that compares text agree. */
static json_object *mean_json(const struct retas_report_quality *q)
{
	char buf[16];
	unsigned tenths;

	tenths = (q->sum * 10 + q->count / 2) / q->count;
	snprintf(buf, sizeof(buf), "%u.%u", tenths / 10, tenths % 10);
	return json_object_new_double_s(tenths / 10.0, buf);
}

static json_object *summary_json(const struct retas_report *r)
{
	struct retas_report_counts c;
	json_object *o = json_object_new_object(), *nr = NULL, *ex = NULL, *per = NULL, *qa = NULL;
	bool ok = o != NULL;

	retas_report_counts(r, &c);
	ok = ok && add(o, "sasaran", band_json(&c, false));
	ok = ok && add(o, "direkam", band_json(&c, true));
	ok = ok && add(o, "tidak_direkam", nr = json_object_new_object());
	ok = ok && add(nr, "total", json_object_new_int64(c.not_recorded));
	for (int st = RETAS_REPORT_ABSENT; ok && st < RETAS_REPORT_N_STATUS; st++)
		ok = add(nr, status_ids[st], json_object_new_int64(c.by_status[st]));
	ok = ok && add(o, "belum", json_object_new_int64(c.by_status[RETAS_REPORT_PENDING]));
	ok = ok && add(o, "pengecualian", ex = json_object_new_object());
	ok = ok && add(ex, "total", json_object_new_int64(c.exceptions_total));
	ok = ok && add(ex, "siswa", json_object_new_int64(c.with_exception));
	ok = ok && add(ex, "per_jari", per = json_object_new_array());
	for (int f = 0; ok && f < RETAS_FINGERS; f++) {
		json_object *row = json_object_new_object();

		ok = push(per, row);
		ok = ok && add(row, "jari", json_object_new_int(f + 1));
		for (int k = 0; ok && k < RETAS_FINGER_N_REASONS; k++)
			ok = add(row, reason_ids[k], json_object_new_int64(c.exceptions[f][k]));
	}
	ok = ok && add(o, "kualitas", qa = json_object_new_array());
	for (int f = 0; ok && f < RETAS_FINGERS; f++) {
		const struct retas_report_quality *q = &c.quality[f];
		json_object *row = json_object_new_object();

		ok = push(qa, row);
		ok = ok && add(row, "jari", json_object_new_int(f + 1));
		ok = ok && add(row, "n", json_object_new_int64(q->count));
		ok = ok &&
		     add_opt(row, "min", q->count, q->count ? json_object_new_int(q->min) : NULL);
		ok = ok && add_opt(row, "rata", q->count, q->count ? mean_json(q) : NULL);
		ok = ok &&
		     add_opt(row, "maks", q->count, q->count ? json_object_new_int(q->max) : NULL);
	}
	ok = ok && add_opt(o, "durasi_menit", c.duration_min >= 0,
			   c.duration_min >= 0 ? json_object_new_int64(c.duration_min) : NULL);
	ok = ok && add(o, "standar_menit", json_object_new_int64(c.standard_min));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *student_json(const struct retas_report_student *s)
{
	json_object *o = json_object_new_object(), *ex = NULL, *q = NULL;
	char g[2] = {(char)s->gender, 0};
	bool ok = o != NULL;

	ok = ok && add(o, "nik", json_object_new_string(s->nik));
	ok = ok && add(o, "nama", json_object_new_string(s->nama));
	ok = ok && add(o, "kelas", json_object_new_string(s->kelas));
	ok = ok &&
	     add_opt(o, "jenis_kelamin", s->gender, s->gender ? json_object_new_string(g) : NULL);
	ok = ok && add(o, "sasaran", json_object_new_boolean(s->on_list));
	ok = ok && add(o, "status", json_object_new_string(status_ids[s->status]));
	ok = ok && add(o, "rekam_saja", json_object_new_boolean(s->record_only));
	ok = ok && add_opt(o, "layak_cetak", s->record_only,
			   s->record_only ? jdate(&s->eligible_on) : NULL);
	ok = ok && add_opt(o, "record_id", s->record_id[0],
			   s->record_id[0] ? json_object_new_string(s->record_id) : NULL);
	ok = ok && add(o, "pengecualian", ex = json_object_new_array());
	for (size_t k = 0; ok && k < s->n_exceptions; k++) {
		json_object *e = json_object_new_object();

		ok = push(ex, e);
		ok = ok && add(e, "jari", json_object_new_int(s->exceptions[k].finger));
		ok = ok &&
		     add(e, "alasan", json_object_new_string(reason_ids[s->exceptions[k].reason]));
	}
	ok = ok && add(o, "kualitas", q = json_object_new_array());
	for (int f = 0; ok && f < RETAS_FINGERS; f++)
		ok = s->quality[f] < 0 ? json_object_array_add(q, NULL) == 0
				       : push(q, json_object_new_int(s->quality[f]));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *report_json(const struct retas_report *r)
{
	const struct retas_report_header *h = &r->h;
	json_object *o = json_object_new_object(), *st = NULL, *sek = NULL, *kec = NULL,
		    *pet = NULL, *ses = NULL, *sis = NULL, *ins = NULL;
	bool ok = o != NULL;

	ok = ok && add(o, "typ", json_object_new_string(RETAS_REPORT_TYP));
	ok = ok && add(o, "dinas", json_object_new_string(h->dinas));
	ok = ok && add(o, "bidang", json_object_new_string(h->bidang));
	ok = ok && add(o, "surat_tugas", st = json_object_new_object());
	ok = ok && add(st, "nomor", json_object_new_string(h->st_nomor));
	ok = ok && add(st, "tanggal", jdate(&h->st_tanggal));
	ok = ok && add(o, "sekolah", sek = json_object_new_object());
	ok = ok && add(sek, "npsn", json_object_new_string(h->npsn));
	ok = ok && add(sek, "nama", json_object_new_string(h->sekolah));
	ok = ok && add(sek, "kecamatan", kec = json_object_new_object());
	ok = ok && add(kec, "kode", json_object_new_string(h->kecamatan));
	ok = ok && add(kec, "nama", json_object_new_string(h->kecamatan_nama));
	ok = ok && add(o, "petugas", pet = json_object_new_array());
	for (size_t i = 0; ok && i < h->n_petugas; i++) {
		json_object *p = json_object_new_object();

		ok = push(pet, p);
		ok = ok && add(p, "nip", json_object_new_string(h->petugas[i].nip));
		ok = ok && add(p, "nama", json_object_new_string(h->petugas[i].nama));
	}
	ok = ok && add(o, "kendaraan", json_object_new_string(h->van));
	ok = ok && add(o, "tanggal", jdate(&h->tanggal));
	ok = ok && add(o, "sesi", ses = json_object_new_object());
	ok = ok && add_time(ses, "dibuka", h->opened_ms);
	ok = ok && add_time(ses, "ditutup", h->closed_ms);
	ok = ok && add(ses, "standar_menit", json_object_new_int(h->sop_minutes));
	ok = ok && add(o, "siswa", sis = json_object_new_array());
	for (size_t i = 0; ok && i < r->n_students; i++)
		ok = push(sis, student_json(&r->students[i]));
	ok = ok && add(o, "insiden", ins = json_object_new_array());
	for (size_t i = 0; ok && i < r->n_incidents; i++) {
		const struct retas_report_incident *n = &r->incidents[i];
		json_object *e = json_object_new_object();

		ok = push(ins, e);
		ok = ok && add_time(e, "waktu", n->at_ms);
		ok = ok && add(e, "perangkat", json_object_new_string(n->device));
		ok = ok && add(e, "keterangan", json_object_new_string(n->what));
	}
	ok = ok && add(o, "ringkasan", summary_json(r));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int retas_report_json_object(const struct retas_report *r, json_object **out,
			     struct retas_error *err)
{
	json_object *o = report_json(r);

	if (!o)
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	*out = o;
	return 0;
}

int retas_report_to_json(const struct retas_report *r, char **out, size_t *len,
			 struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *o = report_json(r);
	char *s = NULL;

	if (!o || retas_json_to_string(o, &s) < 0)
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	*len = strlen(s);
	*out = s;
	return 0;
}

/* --- JSON in ------------------------------------------------------------- */

/* The reader's state: the path of the member being read, for messages. */
struct reader {
	char path[96];
	struct retas_error *err;
};

static int bad(struct reader *rd, int code, const char *key)
{
	const char *dot = rd->path[0] && key[0] ? "." : "";

	if (code == -ENOENT)
		return retas_error_set(rd->err, -EINVAL, "report.json",
				       N_("The report's field %s%s%s is missing."), rd->path, dot,
				       key);
	return retas_error_set(rd->err, -EINVAL, "report.json",
			       N_("The report's field %s%s%s has the wrong type or an invalid "
				  "value."),
			       rd->path, dot, key);
}

static int rd_string(struct reader *rd, json_object *o, const char *key, const char **out)
{
	int r = retas_json_get_string(o, key, out);

	return r < 0 ? bad(rd, r, key) : 0;
}

/* Copies a string member into a fixed array; too long is invalid. */
static int rd_field(struct reader *rd, json_object *o, const char *key, char *buf, size_t size)
{
	const char *s;
	int r = rd_string(rd, o, key, &s);

	if (r < 0)
		return r;
	if (strlen(s) >= size)
		return bad(rd, -EINVAL, key);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int rd_date(struct reader *rd, json_object *o, const char *key, struct retas_date *out)
{
	const char *s;
	int r = rd_string(rd, o, key, &s);

	if (r < 0)
		return r;
	if (retas_date_parse(s, out) < 0)
		return bad(rd, -EINVAL, key);
	return 0;
}

static int rd_int(struct reader *rd, json_object *o, const char *key, int64_t lo, int64_t hi,
		  int64_t *out)
{
	int r = retas_json_get_int64(o, key, out);

	if (r < 0)
		return bad(rd, r, key);
	if (*out < lo || *out > hi)
		return bad(rd, -EINVAL, key);
	return 0;
}

static int rd_bool(struct reader *rd, json_object *o, const char *key, bool *out)
{
	int r = retas_json_get_bool(o, key, out);

	return r < 0 ? bad(rd, r, key) : 0;
}

/* A member that must be present and may be null: *out is NULL for null. */
static int rd_nullable(struct reader *rd, json_object *o, const char *key, json_type type,
		       json_object **out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(rd, -ENOENT, key);
	if (v && !json_object_is_type(v, type))
		return bad(rd, -EINVAL, key);
	*out = v;
	return 0;
}

static int rd_time(struct reader *rd, json_object *o, const char *key, int64_t *out)
{
	json_object *v;
	int r = rd_nullable(rd, o, key, json_type_string, &v);

	if (r < 0)
		return r;
	*out = 0;
	if (v && (retas_time_parse_rfc3339(json_object_get_string(v), out, NULL) < 0 || *out <= 0))
		return bad(rd, -EINVAL, key);
	return 0;
}

/* Enters member key (an object) of o: path grows by ".key". */
static int rd_enter(struct reader *rd, json_object *o, const char *key, json_object **out,
		    size_t *saved)
{
	int r = retas_json_get_object(o, key, out);

	if (r < 0)
		return bad(rd, r, key);
	*saved = strlen(rd->path);
	snprintf(rd->path + *saved, sizeof(rd->path) - *saved, "%s%s", *saved ? "." : "", key);
	return 0;
}

static void rd_leave(struct reader *rd, size_t saved)
{
	rd->path[saved] = '\0';
}

static int rd_array(struct reader *rd, json_object *o, const char *key, size_t max,
		    json_object **out)
{
	int r = retas_json_get_array(o, key, out);

	if (r < 0)
		return bad(rd, r, key);
	if (json_object_array_length(*out) > max)
		return bad(rd, -EINVAL, key);
	return 0;
}

static int read_header(struct reader *rd, json_object *o, struct retas_report_header *h)
{
	json_object *st, *sek, *kec, *pet, *ses;
	const char *typ;
	size_t sv, sv2;
	int64_t v;
	int r;

	r = rd_string(rd, o, "typ", &typ);
	if (r < 0)
		return r;
	if (!streq(typ, RETAS_REPORT_TYP))
		return retas_error_set(rd->err, -EINVAL, "report.typ",
				       N_("The file is not a RETAS report (typ is not %s)."),
				       RETAS_REPORT_TYP);
	if ((r = rd_field(rd, o, "dinas", h->dinas, sizeof(h->dinas))) < 0 ||
	    (r = rd_field(rd, o, "bidang", h->bidang, sizeof(h->bidang))) < 0)
		return r;
	if ((r = rd_enter(rd, o, "surat_tugas", &st, &sv)) < 0)
		return r;
	if ((r = rd_field(rd, st, "nomor", h->st_nomor, sizeof(h->st_nomor))) < 0 ||
	    (r = rd_date(rd, st, "tanggal", &h->st_tanggal)) < 0)
		return r;
	rd_leave(rd, sv);
	if ((r = rd_enter(rd, o, "sekolah", &sek, &sv)) < 0)
		return r;
	if ((r = rd_field(rd, sek, "npsn", h->npsn, sizeof(h->npsn))) < 0 ||
	    (r = rd_field(rd, sek, "nama", h->sekolah, sizeof(h->sekolah))) < 0 ||
	    (r = rd_enter(rd, sek, "kecamatan", &kec, &sv2)) < 0)
		return r;
	if ((r = rd_field(rd, kec, "kode", h->kecamatan, sizeof(h->kecamatan))) < 0 ||
	    (r = rd_field(rd, kec, "nama", h->kecamatan_nama, sizeof(h->kecamatan_nama))) < 0)
		return r;
	rd_leave(rd, sv);
	if ((r = rd_array(rd, o, "petugas", RETAS_REPORT_MAX_OFFICERS, &pet)) < 0)
		return r;
	h->n_petugas = json_object_array_length(pet);
	for (size_t i = 0; i < h->n_petugas; i++) {
		json_object *p = json_object_array_get_idx(pet, i);

		snprintf(rd->path, sizeof(rd->path), "petugas[%zu]", i);
		if (!json_object_is_type(p, json_type_object))
			return bad(rd, -EINVAL, "");
		if ((r = rd_field(rd, p, "nip", h->petugas[i].nip, sizeof(h->petugas[i].nip))) <
			0 ||
		    (r = rd_field(rd, p, "nama", h->petugas[i].nama, sizeof(h->petugas[i].nama))) <
			0)
			return r;
	}
	rd->path[0] = '\0';
	if ((r = rd_field(rd, o, "kendaraan", h->van, sizeof(h->van))) < 0 ||
	    (r = rd_date(rd, o, "tanggal", &h->tanggal)) < 0 ||
	    (r = rd_enter(rd, o, "sesi", &ses, &sv)) < 0)
		return r;
	if ((r = rd_time(rd, ses, "dibuka", &h->opened_ms)) < 0 ||
	    (r = rd_time(rd, ses, "ditutup", &h->closed_ms)) < 0 ||
	    (r = rd_int(rd, ses, "standar_menit", 1, 24 * 60, &v)) < 0)
		return r;
	h->sop_minutes = (int)v;
	rd_leave(rd, sv);
	return 0;
}

static int read_student(struct reader *rd, json_object *o, struct retas_report_student *s)
{
	json_object *g, *elig, *rid, *ex, *q;
	const char *status, *nik;
	int r, st;

	if (!json_object_is_type(o, json_type_object))
		return bad(rd, -EINVAL, "");
	if ((r = rd_string(rd, o, "nik", &nik)) < 0)
		return r;
	if (!retas_nik_is_masked(nik))
		return retas_error_set(rd->err, -EINVAL, "report.nik",
				       N_("The report's field %s.nik is not a masked NIK (first "
					  "six and last four digits): a report never carries a "
					  "full NIK."),
				       rd->path);
	memcpy(s->nik, nik, 17);
	if ((r = rd_string(rd, o, "nama", (const char **)&s->nama)) < 0 ||
	    (r = rd_string(rd, o, "kelas", (const char **)&s->kelas)) < 0 ||
	    (r = rd_nullable(rd, o, "jenis_kelamin", json_type_string, &g)) < 0 ||
	    (r = rd_bool(rd, o, "sasaran", &s->on_list)) < 0 ||
	    (r = rd_string(rd, o, "status", &status)) < 0 ||
	    (r = rd_bool(rd, o, "rekam_saja", &s->record_only)) < 0 ||
	    (r = rd_nullable(rd, o, "layak_cetak", json_type_string, &elig)) < 0 ||
	    (r = rd_nullable(rd, o, "record_id", json_type_string, &rid)) < 0 ||
	    (r = rd_array(rd, o, "pengecualian", RETAS_FINGERS, &ex)) < 0 ||
	    (r = rd_array(rd, o, "kualitas", RETAS_FINGERS, &q)) < 0)
		return r;
	if (g) {
		const char *gs = json_object_get_string(g);

		if (!streq(gs, "L") && !streq(gs, "P"))
			return bad(rd, -EINVAL, "jenis_kelamin");
		s->gender = (enum retas_gender)gs[0];
	}
	st = retas_report_status_from_id(status);
	if (st < 0)
		return bad(rd, -EINVAL, "status");
	s->status = (enum retas_report_status)st;
	if (elig && retas_date_parse(json_object_get_string(elig), &s->eligible_on) < 0)
		return bad(rd, -EINVAL, "layak_cetak");
	if (rid && (json_object_get_string_len(rid) >= (int)sizeof(s->record_id)))
		return bad(rd, -EINVAL, "record_id");
	if (rid)
		memcpy(s->record_id, json_object_get_string(rid), json_object_get_string_len(rid));
	s->n_exceptions = json_object_array_length(ex);
	for (size_t k = 0; k < s->n_exceptions; k++) {
		json_object *e = json_object_array_get_idx(ex, k);
		const char *why;
		int64_t f;
		size_t len = strlen(rd->path);
		int reason;

		snprintf(rd->path + len, sizeof(rd->path) - len, ".pengecualian[%zu]", k);
		if (!json_object_is_type(e, json_type_object))
			return bad(rd, -EINVAL, "");
		if ((r = rd_int(rd, e, "jari", 1, RETAS_FINGERS, &f)) < 0 ||
		    (r = rd_string(rd, e, "alasan", &why)) < 0)
			return r;
		reason = retas_finger_reason_from_id(why);
		if (reason < 0)
			return bad(rd, -EINVAL, "alasan");
		s->exceptions[k].finger = (int)f;
		s->exceptions[k].reason = (enum retas_finger_reason)reason;
		rd_leave(rd, len);
	}
	if (json_object_array_length(q) != RETAS_FINGERS)
		return bad(rd, -EINVAL, "kualitas");
	for (int f = 0; f < RETAS_FINGERS; f++) {
		json_object *v = json_object_array_get_idx(q, f);
		int64_t n;

		s->quality[f] = -1;
		if (!v)
			continue;
		if (!json_object_is_type(v, json_type_int))
			return bad(rd, -EINVAL, "kualitas");
		n = json_object_get_int64(v);
		if (n < 0 || n > 100)
			return bad(rd, -EINVAL, "kualitas");
		s->quality[f] = (int)n;
	}
	return 0;
}

/* Names the first member where got differs from want, into path. */
static bool first_difference(json_object *want, json_object *got, char *path, size_t size)
{
	size_t len = strlen(path);

	if (json_object_equal(want, got))
		return false;
	if (json_object_is_type(want, json_type_object) &&
	    json_object_is_type(got, json_type_object)) {
		json_object_object_foreach(want, key, wv)
		{
			json_object *gv = NULL;

			snprintf(path + len, size - len, ".%s", key);
			if (!json_object_object_get_ex(got, key, &gv))
				return true;
			if (first_difference(wv, gv, path, size))
				return true;
		}
		path[len] = '\0';
		return true;
	}
	if (json_object_is_type(want, json_type_array) &&
	    json_object_is_type(got, json_type_array) &&
	    json_object_array_length(want) == json_object_array_length(got)) {
		for (size_t i = 0; i < json_object_array_length(want); i++) {
			snprintf(path + len, size - len, "[%zu]", i);
			if (first_difference(json_object_array_get_idx(want, i),
					     json_object_array_get_idx(got, i), path, size))
				return true;
		}
		path[len] = '\0';
	}
	return true;
}

static int check_summary(const struct retas_report *rep, json_object *given,
			 struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *want = summary_json(rep);
	char path[96] = "ringkasan";

	if (!want)
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	if (!first_difference(want, given, path, sizeof(path)))
		return 0;
	return retas_error_set(err, -EINVAL, "report.summary",
			       N_("The report's field %s does not match the counts of its "
				  "rows."),
			       path);
}

int retas_report_from_json(const char *json, size_t len, struct retas_report **out,
			   struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *o = NULL;

	if (len > RETAS_REPORT_MAX_JSON)
		return retas_error_set(err, -E2BIG, "report.size",
				       N_("The report is larger than %u bytes."),
				       RETAS_REPORT_MAX_JSON);
	if (retas_json_parse(json, len, &o) < 0)
		return retas_error_set(err, -EINVAL, "report.json",
				       N_("The report is not a JSON object."));
	return retas_report_from_object(o, out, err);
}

int retas_report_from_object(json_object *o, struct retas_report **out, struct retas_error *err)
{
	struct retas_report *rep = NULL;
	struct retas_report_header h;
	struct reader rd = {.err = err};
	json_object *sis, *ins, *sum;
	int r;

	if (!json_object_is_type(o, json_type_object)) {
		r = retas_error_set(err, -EINVAL, "report.json",
				    N_("The report is not a JSON object."));
		goto out;
	}
	memset(&h, 0, sizeof(h));
	r = read_header(&rd, o, &h);
	if (r < 0)
		goto out;
	r = retas_report_new(&h, &rep, err);
	if (r < 0)
		goto out;
	r = rd_array(&rd, o, "siswa", RETAS_REPORT_MAX_STUDENTS, &sis);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < json_object_array_length(sis); i++) {
		struct retas_report_student s;

		memset(&s, 0, sizeof(s));
		snprintf(rd.path, sizeof(rd.path), "siswa[%zu]", i);
		r = read_student(&rd, json_object_array_get_idx(sis, i), &s);
		if (r < 0)
			goto out;
		r = retas_report_add_student(rep, &s, err);
		if (r < 0) {
			retas_error_prefix(err, "%s", rd.path);
			goto out;
		}
	}
	rd.path[0] = '\0';
	r = rd_array(&rd, o, "insiden", RETAS_REPORT_MAX_INCIDENTS, &ins);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < json_object_array_length(ins); i++) {
		struct retas_report_incident n;
		json_object *e = json_object_array_get_idx(ins, i);
		const char *what;

		memset(&n, 0, sizeof(n));
		snprintf(rd.path, sizeof(rd.path), "insiden[%zu]", i);
		if (!json_object_is_type(e, json_type_object)) {
			r = bad(&rd, -EINVAL, "");
			goto out;
		}
		if ((r = rd_time(&rd, e, "waktu", &n.at_ms)) < 0 ||
		    (r = rd_field(&rd, e, "perangkat", n.device, sizeof(n.device))) < 0 ||
		    (r = rd_string(&rd, e, "keterangan", &what)) < 0)
			goto out;
		n.what = (char *)what;
		r = retas_report_add_incident(rep, &n, err);
		if (r < 0) {
			retas_error_prefix(err, "%s", rd.path);
			goto out;
		}
	}
	rd.path[0] = '\0';
	r = retas_json_get_object(o, "ringkasan", &sum);
	if (r < 0) {
		r = bad(&rd, r, "ringkasan");
		goto out;
	}
	r = check_summary(rep, sum, err);
	if (r < 0)
		goto out;
	*out = steal_ptr(rep);
	r = 0;
out:
	retas_report_free(rep);
	return r;
}

/* --- signature ---------------------------------------------------------- */

int retas_report_sign(const struct retas_report *r, const uint8_t sk[64], const char *kid,
		      char **out, struct retas_error *err)
{
	_cleanup_(freep) char *json = NULL;
	size_t len;
	int res;

	res = retas_report_to_json(r, &json, &len, err);
	if (res < 0)
		return res;
	return retas_jws_sign(json, len, RETAS_REPORT_JWS_TYP, kid, sk, out, err);
}

int retas_report_verify(const char *token, size_t len, const uint8_t pk[32],
			struct retas_report **out, struct retas_error *err)
{
	struct retas_jws *jws = NULL;
	int res;

	res = retas_jws_verify(token, len, pk, RETAS_REPORT_JWS_TYP, &jws, err);
	if (res < 0)
		return res;
	res = retas_report_from_json((const char *)jws->payload, jws->payload_len, out, err);
	retas_jws_free(jws);
	return res;
}

/* --- CSV ----------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (b->len + n + 1 > cap)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/*
 * One field, quoted when RFC 4180 needs it. A text cell that a spreadsheet
 * would run as a formula (starting with = + - @) gets a leading apostrophe:
 * names come from schools' files and the CSV is opened in spreadsheets.
 */
static void csv_field(struct buf *b, const char *s, bool text, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		buf_add(b, "\"", 1);
	if (text && s[0] && strchr("=+-@", s[0]))
		buf_add(b, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_add(b, "\"", 1);
		buf_add(b, p, 1);
	}
	if (quote)
		buf_add(b, "\"", 1);
	buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

int retas_report_to_csv(const struct retas_report *r, char **out, size_t *len,
			struct retas_error *err)
{
	struct buf b = {0};
	static const char header[] = "no,nik,nama,kelas,jenis_kelamin,sasaran,status,rekam_saja,"
				     "layak_cetak,pengecualian,record_id\r\n";

	buf_add(&b, header, sizeof(header) - 1);
	for (size_t i = 0; i < r->n_students; i++) {
		const struct retas_report_student *s = &r->students[i];
		char no[24], g[2] = {(char)s->gender, 0}, elig[16] = "",
			     ex[RETAS_FINGERS * 16] = "";
		size_t exl = 0;

		snprintf(no, sizeof(no), "%zu", i + 1);
		if (s->record_only)
			retas_date_format(&s->eligible_on, elig);
		for (size_t k = 0; k < s->n_exceptions; k++)
			exl += (size_t)snprintf(ex + exl, sizeof(ex) - exl, "%s%d:%s", k ? ";" : "",
						s->exceptions[k].finger,
						reason_ids[s->exceptions[k].reason]);
		csv_field(&b, no, false, false);
		csv_field(&b, s->nik, false, false);
		csv_field(&b, s->nama, true, false);
		csv_field(&b, s->kelas, true, false);
		csv_field(&b, g, false, false);
		csv_field(&b, s->on_list ? "ya" : "tidak", false, false);
		csv_field(&b, retas_report_row_status(s), false, false);
		csv_field(&b, s->record_only ? "ya" : "tidak", false, false);
		csv_field(&b, elig, false, false);
		csv_field(&b, ex, false, false);
		csv_field(&b, s->record_id, false, true);
	}
	if (b.failed) {
		free(b.p);
		return retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
