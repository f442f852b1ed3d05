/*
 * retas-seed-records: a test-only tool (built, never installed) that puts
 * sealed records into a stopped retasd's store the way an enrolment commit
 * does, so sync tests have real records to send before enrolment can be
 * driven end to end. It opens the state directory's store through the
 * daemon's own store code, seals each record with the core library under
 * the van's device key (state_dir/device.key) to the HQ seal key of the
 * current surat tugas, and chains seq and prev_hash after the van's latest
 * record, inserting the student row and the record in one transaction.
 * The current letter must be loaded and a session opened first.
 *
 * usage: retas-seed-records --config FILE --state-dir DIR -n N [--photo-len BYTES]
 *                           [--nik-file FILE [--nik-skip K]]
 *
 * With --nik-file (one NIK a line, as the student list imported into the
 * daemon holds them) record i is for the NIK on line K+i, attached to that
 * listed student (inserted like one added on the spot when not listed),
 * with a summary like an enrolment's, so the draft report counts it.
 *
 * Prints one line per record: its id, seq and the hex SHA-256 of its bytes.
 * Exit 0 done, 1 on any failure (the reason printed), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "conf.h"
#include "daemon.h"
#include "index.h"
#include "retas-keys.h"
#include "retas-record.h"
#include "retas-regions.h"
#include "retas-st.h"
#include "retas-time.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "store.h"

struct seed {
	struct rd_config *config;
	struct rd_store *store;
	struct retas_st *st;
	struct retas_sign_keypair device;
	uint8_t local_key[RD_INDEX_KEY_BYTES];
	int64_t session_id;
	int64_t assignment_id;
	size_t photo_len;
	char (*niks)[17]; /* --nik-file, NULL for generated NIKs */
	size_t n_niks, next_nik;
};

/* A NIK that carries a birth date 17 years back from today (WIB) and the
 * record's sequence number, unique within the van. */
static void make_demografi(const struct seed *s, uint64_t seq, char *nik, size_t niksize,
			   char *buf, size_t size)
{
	struct retas_date today;

	retas_date_from_ms(retas_time_now_ms(), RETAS_WIB_OFFSET_MIN, &today);
	snprintf(nik, niksize, "%s%02d%02d%02d%04" PRIu64, s->st->sekolah.kecamatan,
		 today.day > 28 ? 28 : today.day, today.month, (today.year - 17) % 100,
		 seq % 10000);
	snprintf(buf, size,
		 "{\"nik\":\"%s\",\"nama\":\"Siswa %" PRIu64 "\",\"jenis_kelamin\":\"L\","
		 "\"tanggal_lahir\":\"%04d-%02d-%02d\",\"kelas\":\"XII IPA 1\","
		 "\"npsn\":\"%s\",\"pengecualian\":[]}",
		 nik, seq, today.year - 17, today.month, today.day > 28 ? 28 : today.day,
		 s->st->sekolah.npsn);
}

/* The demografi of a listed NIK: gender and birth date as the NIK says
 * (day + 40 for women; a two-digit year not after this one is this century). */
static void listed_demografi(const struct seed *s, const char *nik, char *buf, size_t size)
{
	struct retas_date today;
	int day = (nik[6] - '0') * 10 + (nik[7] - '0'), month = (nik[8] - '0') * 10 + (nik[9] - '0');
	int yy = (nik[10] - '0') * 10 + (nik[11] - '0'), year;
	char jk = day > 40 ? 'P' : 'L';

	retas_date_from_ms(retas_time_now_ms(), RETAS_WIB_OFFSET_MIN, &today);
	year = yy <= today.year % 100 ? 2000 + yy : 1900 + yy;
	snprintf(buf, size,
		 "{\"nik\":\"%s\",\"nama\":\"Siswa %s\",\"jenis_kelamin\":\"%c\","
		 "\"tanggal_lahir\":\"%04d-%02d-%02d\",\"kelas\":\"XII IPA 1\","
		 "\"npsn\":\"%s\",\"pengecualian\":[]}",
		 nik, nik + 12, jk, year, month, day > 40 ? day - 40 : day, s->st->sekolah.npsn);
}

static int seed_one(struct seed *s, struct retas_error *err)
{
	struct retas_record_header h = {0};
	struct retas_container *body = NULL;
	struct rd_store_record rec = {0};
	json_object *entry = NULL;
	uint8_t *sealed = NULL, *photo = NULL, *sealed_index = NULL, nik_hash[32];
	size_t sealed_len = 0, sealed_index_len = 0;
	int64_t last_seq = 0, student_id = 0;
	char demografi[512], nik[17], hex[65], summary[320];
	bool has_prev = false, in_txn = false;
	int r;

	r = rd_store_txn_begin(s->store);
	if (r < 0)
		goto out;
	in_txn = true;
	r = rd_store_record_last(s->store, &last_seq, h.prev_hash);
	if (r == 0)
		has_prev = true;
	else if (r != -ENOENT)
		goto out;
	h.seq = (uint64_t)last_seq + 1;
	h.created_ms = retas_time_now_ms();
	retas_uuid7_new(h.created_ms, h.id);
	snprintf(h.st_nomor, sizeof(h.st_nomor), "%s", s->st->nomor);
	snprintf(h.device_id, sizeof(h.device_id), "%s", s->st->kendaraan.id);
	memcpy(h.officer_nip, s->st->petugas[0].nip, sizeof(h.officer_nip));

	if (s->niks) {
		memcpy(nik, s->niks[s->next_nik++], sizeof(nik));
		listed_demografi(s, nik, demografi, sizeof(demografi));
	} else {
		make_demografi(s, h.seq, nik, sizeof(nik), demografi, sizeof(demografi));
	}
	photo = malloc(s->photo_len ? s->photo_len : 1);
	r = photo ? retas_container_new(&body) : -ENOMEM;
	if (r < 0)
		goto out;
	randombytes_buf(photo, s->photo_len);
	r = retas_container_add(body, "demografi.json", "application/json", demografi,
				strlen(demografi));
	if (r == 0)
		r = retas_container_add(body, "foto.jpg", "image/jpeg", photo, s->photo_len);
	if (r == 0)
		r = retas_record_seal(&h, body, s->st->hq.seal_key, s->device.sk, &sealed,
				      &sealed_len, err);
	if (r < 0)
		goto out;

	rd_index_nik_hash(s->local_key, nik, nik_hash);
	if (s->niks) {
		r = rd_store_student_find(s->store, s->assignment_id, nik_hash, &student_id);
		if (r < 0 && r != -ENOENT)
			goto out;
	}
	if (!student_id) {
		entry = rd_index_entry(nik, "Siswa", "XII IPA 1", 'L',
			       &(struct retas_date){2009, 1, 1});
		r = entry ? rd_index_seal(s->local_key, entry, &sealed_index, &sealed_index_len)
			  : -ENOMEM;
		if (r == 0)
			r = rd_store_student_insert(s->store, s->assignment_id, nik_hash,
						    sealed_index, sealed_index_len, false,
						    h.created_ms, &student_id);
		if (r < 0)
			goto out;
	}

	retas_uuid_format(h.id, rec.id);
	rec.session_id = s->session_id;
	rec.seq = (int64_t)h.seq;
	rec.has_prev = has_prev;
	memcpy(rec.prev_hash, h.prev_hash, 32);
	retas_record_hash(sealed, sealed_len, rec.hash);
	rec.sealed = sealed;
	rec.sealed_len = sealed_len;
	rec.created_at_ms = h.created_ms;
	rec.student_id = student_id;
	if (s->niks) {
		struct retas_date today;

		retas_date_from_ms(h.created_ms, RETAS_WIB_OFFSET_MIN, &today);
		snprintf(summary, sizeof(summary),
			 "{\"exceptions\":[],\"quality\":[{\"jari\":1,\"q\":80,\"attempts\":1}],"
			 "\"record_only\":false,\"date\":\"%04d-%02d-%02d\",\"petugas\":\"%s\","
			 "\"photo_takes\":1,\"signature_takes\":1}",
			 today.year, today.month, today.day, h.officer_nip);
		rec.summary = summary;
	} else {
		rec.summary = "{}";
	}
	rec.token = "";
	r = rd_store_record_insert(s->store, &rec);
	if (r == 0)
		r = rd_store_txn_commit(s->store);
	if (r == 0) {
		in_txn = false;
		retas_hex_encode(rec.hash, 32, hex);
		printf("%s %" PRId64 " %s\n", rec.id, rec.seq, hex);
	}
out:
	if (in_txn)
		rd_store_txn_rollback(s->store);
	if (r < 0 && !err->reason[0])
		retas_error_set(err, r, "seed.store", "cannot store record %" PRIu64 ": %s", h.seq,
				strerror(-r));
	json_object_put(entry);
	retas_container_free(body);
	free(sealed);
	free(sealed_index);
	free(photo);
	return r;
}

/* Lines skip .. skip+n-1 of path, each a 16-digit NIK. */
static int read_niks(const char *path, long skip, long n, struct seed *s)
{
	FILE *f = fopen(path, "re");
	char line[64];
	long i = 0;
	int r = 0;

	if (!f)
		return -errno;
	s->niks = calloc((size_t)n, sizeof(*s->niks));
	if (!s->niks)
		r = -ENOMEM;
	while (r == 0 && i - skip < n && fgets(line, sizeof(line), f)) {
		if (i >= skip) {
			if (strspn(line, "0123456789") != 16)
				r = -ERANGE;
			else
				memcpy(s->niks[i - skip], line, 16);
		}
		i++;
	}
	if (r == 0 && i - skip < n)
		r = -ERANGE;
	s->n_niks = (size_t)n;
	fclose(f);
	return r;
}

static int usage(const char *why)
{
	fprintf(stderr,
		"retas-seed-records: %s\nusage: retas-seed-records --config FILE --state-dir DIR "
		"-n N [--photo-len BYTES] [--nik-file FILE [--nik-skip K]]\n",
		why);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"photo-len", required_argument, NULL, 'p'},
	    {"nik-file", required_argument, NULL, 'f'},
	    {"nik-skip", required_argument, NULL, 'k'},
	    {0},
	};
	struct rd_options o = {.config_explicit = true};
	struct retas_error err = {0};
	struct retas_regions *regions = NULL;
	struct rd_store_assignment a = {0};
	struct rd_store_session sess = {0};
	struct seed s = {.photo_len = 4096};
	char path[600];
	const char *nik_file = NULL;
	long n = -1, skip = 0;
	int c, r = -EINVAL, status = 1;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 's':
			o.state_dir = optarg;
			break;
		case 'p':
			s.photo_len = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'f':
			nik_file = optarg;
			break;
		case 'k':
			skip = strtol(optarg, NULL, 10);
			break;
		default:
			return usage("unknown option");
		}
	}
	if (!o.config_path || !o.state_dir || n < 1 || optind != argc)
		return usage("--config, --state-dir and -n N (N >= 1) are required");
	if (skip < 0)
		return usage("--nik-skip wants K >= 0");
	if (sodium_init() < 0)
		return 1;
	if (nik_file) {
		r = read_niks(nik_file, skip, n, &s);
		if (r < 0) {
			fprintf(stderr, "retas-seed-records: %s: %s\n", nik_file,
				r == -ERANGE ? "fewer NIKs than records, or a line not 16 digits"
					     : strerror(-r));
			return 1;
		}
	}

	r = rd_config_load_all(&o, &s.config, &err);
	if (r == 0)
		r = rd_daemon_device_key(s.config, &s.device, &err);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/local.key", s.config->state_dir);
		r = rd_index_key_load(path, s.local_key, &err);
	}
	if (r == 0)
		r = retas_regions_load_default(&regions, &err);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/retasd.db", s.config->state_dir);
		r = rd_store_open(path, s.config->store_busy_timeout_ms, &s.store, &err);
	}
	if (r == 0) {
		r = rd_store_assignment_current(s.store, &a);
		if (r < 0)
			retas_error_set(&err, r, "seed.no-letter", "no surat tugas is loaded");
	}
	if (r == 0)
		r = retas_st_verify(a.token, strlen(a.token), s.config->hq_sign_key, regions, &s.st,
				    &err);
	if (r == 0) {
		s.assignment_id = a.id;
		r = rd_store_session_latest(s.store, a.id, &sess);
		if (r < 0 || sess.closed_at_ms)
			r = retas_error_set(&err, -ENOENT, "seed.no-session", "no session is open");
		s.session_id = sess.id;
	}
	for (long i = 0; r == 0 && i < n; i++)
		r = seed_one(&s, &err);
	if (r == 0)
		status = 0;
	else
		fprintf(stderr, "retas-seed-records: %s\n",
			err.message[0] ? err.message : strerror(-r));
	rd_store_assignment_clear(&a);
	rd_store_free(s.store);
	retas_st_free(s.st);
	retas_regions_free(regions);
	rd_config_free(s.config);
	sodium_memzero(&s.device, sizeof(s.device));
	sodium_memzero(s.local_key, sizeof(s.local_key));
	free(s.niks);
	return status;
}
