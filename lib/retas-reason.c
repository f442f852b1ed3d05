/*
 * Reason templates and their rendering. The table is sorted by nothing in
 * particular and searched linearly: it is short and read once per refusal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-reason.h"

struct reason {
	const char *id;
	const char *tmpl;
};

/* TRANSLATORS: the words in braces ({nip}, {until}, ...) are filled in by
 * the program; keep them unchanged in the translation. */
static const struct reason reasons[] = {
    {"assignment.none",
     N_("No surat tugas is loaded; load one with 'retas assignment load FILE'.")},
    {"assignment.no-hq-key",
     N_("retasd has no head office key to trust (hq.sign_key in retasd.conf), so it cannot "
	"verify a surat tugas.")},
    {"assignment.session-open",
     N_("A session of surat tugas {nomor} is open; close it before loading another letter.")},
    {"assignment.changed", N_("The surat tugas was replaced during the PIN check; log in again.")},
    {"st.expired", N_("Surat tugas {nomor} expired at {valid_until}.")},
    {"st.not-yet-valid", N_("Surat tugas {nomor} is valid only from {valid_from}.")},
    {"st.other-van", N_("Surat tugas {nomor} is for vehicle {kendaraan}, not for this van.")},
    {"st.json", N_("The surat tugas does not hold a valid retas.surat-tugas.v1 document.")},
    {"st.typ", N_("The surat tugas does not hold a valid retas.surat-tugas.v1 document.")},
    {"sync.export-dir", N_("{dir} is not a directory retasd can write the batch to.")},
    {"sync.export", N_("The batch could not be written to {dir}: {detail}")},
    {"sync.stage", N_("No batch could be prepared for head office: {detail}")},
    {"sync.receipt", N_("The receipt was refused ({detail}); the records stay pending.")},
    {"st.*", N_("The surat tugas has an invalid field {field}: {detail}")},
    {"jws.signature",
     N_("The signature of the surat tugas does not match head office's key: the letter is "
	"forged or was altered.")},
    {"jws.alg", N_("The surat tugas is not signed with EdDSA (Ed25519), the only algorithm "
		   "accepted.")},
    {"jws.size", N_("The surat tugas is larger than 1 MiB.")},
    {"jws.format", N_("The file is not a surat tugas (a JWS of type retas-st+jws).")},
    {"jws.base64", N_("The file is not a surat tugas (a JWS of type retas-st+jws).")},
    {"jws.header", N_("The file is not a surat tugas (a JWS of type retas-st+jws).")},
    {"jws.typ", N_("The file is not a surat tugas (a JWS of type retas-st+jws).")},
    {"jws.trailing", N_("The file is not a surat tugas (a JWS of type retas-st+jws).")},
    {"jws.crit", N_("The surat tugas uses a JWS extension (crit) that is not understood.")},
    {"login.unknown-nip", N_("NIP {nip} is not an officer in surat tugas {nomor}.")},
    {"login.locked", N_("NIP {nip} is locked after too many wrong PINs until {until}.")},
    {"login.wrong-pin",
     N_("Wrong PIN for NIP {nip}. Attempts left before a lockout: {remaining}.")},
    {"login.wrong-pin-locked",
     N_("Wrong PIN for NIP {nip}. Too many wrong PINs: the NIP is locked until {until}.")},
    {"login.queue-full", N_("Too many PIN checks are waiting; try again in a moment.")},
    {"document.queue-full",
     N_("Too many reports and receipts are being prepared; try again in a moment.")},
    {"login.required", N_("No officer is logged in; log in with 'retas login NIP' first.")},
    {"login.idle", N_("The login ended after {minutes} minutes without activity; log in again.")},
    {"login.other-user",
     N_("The officer logged in from another user account (uid {uid}); log in again from this "
	"one.")},
    {"api.permission",
     N_("User account {uid} may not change retasd's state; it must belong to group {group}.")},
    {"session.already-open", N_("A session is already open, since {opened_at}.")},
    {"session.not-open", N_("No session is open.")},
    {"preflight.disk",
     N_("Free space for the store is {free} MiB, below the minimum of {min} MiB.")},
    {"internal.store", N_("retasd could not write its store ({error}); nothing was changed.")},
    {"internal.pin-check", N_("retasd could not check the PIN ({error}); try again.")},
    {"students.file", N_("The student list cannot be read: {detail}")},
    {"students.unknown", N_("NIK {nik} is not on the student list.")},
    {"students.recorded", N_("The student with NIK {nik} is already recorded.")},
    {"enroll.busy", N_("Another student's enrolment is in progress; finish or abandon it first.")},
    {"enroll.nik", N_("NIK {nik} is not valid: {detail}")},
    {"enroll.duplicate",
     N_("The student with NIK {nik} is already recorded in this surat tugas; a second record "
	"needs --redo with --reason.")},
    {"enroll.nothing-to-redo", N_("The student with NIK {nik} has no record to redo.")},
    {"enroll.redo-reason", N_("A redo needs a reason (--reason TEXT).")},
    {"enroll.not-listed",
     N_("NIK {nik} is not on the student list; give the student's name, gender and birth date "
	"to add them.")},
    {"enroll.mismatch",
     N_("The gender or birth date given for NIK {nik} does not agree with the NIK.")},
    {"enroll.too-young",
     N_("The student with NIK {nik} is {age}, below the surat tugas's minimum age of "
	"{min_age}.")},
    {"enroll.unknown", N_("No enrolment {id} is in progress.")},
    {"enroll.capturing", N_("A capture is running for this student; wait for it to end.")},
    {"enroll.finger", N_("Finger position {position} is not on the surat tugas's list.")},
    {"enroll.exception-reason",
     N_("'{reason}' is not an exception reason: missing, bandaged, scarred or unreadable.")},
    {"enroll.exception-unconfirmed",
     N_("The exception for the {finger} must be confirmed by the officer.")},
    {"enroll.no-signature", N_("No signature is being captured.")},
    {"enroll.cancelled", N_("The capture was stopped: {detail}")},
    {"enroll.incomplete", N_("The enrolment is not complete: {missing} is missing.")},
    {"enroll.seal", N_("The record could not be sealed: {detail}")},
    {"receipt.format", N_("'{format}' is not a receipt format: pdf or png.")},
    {"receipt.none", N_("The student with NIK {nik} has no record, so no receipt.")},
    {"receipt.render", N_("The receipt could not be rendered: {detail}")},
    {"report.format", N_("'{format}' is not a report format: json, csv or pdf.")},
    {"report.build", N_("The draft report could not be made: {detail}")},
    {"capture.finger", N_("The fingerprint could not be captured: {detail}")},
    {"capture.photo", N_("The photo could not be taken: {detail}")},
    {"capture.signature", N_("The signature could not be captured: {detail}")},
    {"preflight.clock",
     N_("The clock reads {now}, before the surat tugas's date {known}: set the clock right "
	"before recording.")},
    {"preflight.clock-behind",
     N_("The clock reads {now}, before the van's last record made at {known}: set the clock "
	"right before recording.")},
    {"preflight.device",
     N_("The {device} device is not connected; connect it and try again.")},
};

const char *retas_reason_template(const char *reason)
{
	if (!reason)
		return NULL;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].id, reason) == 0)
			return reasons[i].tmpl;
	if (strncmp(reason, "st.", 3) == 0)
		return retas_reason_template("st.*");
	return NULL;
}

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->err = -ENOMEM;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

int retas_reason_format(const char *tmpl, json_object *args, char **out)
{
	struct buf b = {0};
	const char *p = tmpl;

	put(&b, "", 0);
	while (*p) {
		const char *open = strchr(p, '{'), *close;
		json_object *v;
		char name[64];
		size_t n;

		if (!open) {
			put(&b, p, strlen(p));
			break;
		}
		put(&b, p, (size_t)(open - p));
		close = strchr(open, '}');
		n = close ? (size_t)(close - open - 1) : 0;
		if (!close || n == 0 || n >= sizeof(name)) {
			put(&b, open, 1);
			p = open + 1;
			continue;
		}
		memcpy(name, open + 1, n);
		name[n] = '\0';
		if (args && json_object_object_get_ex(args, name, &v) && v &&
		    !json_object_is_type(v, json_type_object) &&
		    !json_object_is_type(v, json_type_array)) {
			const char *s = json_object_get_string(v);

			put(&b, s, strlen(s));
		} else {
			put(&b, open, n + 2);
		}
		p = close + 1;
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	return 0;
}

int retas_reason_render(const char *reason, json_object *args, bool translate, char **out)
{
	const char *tmpl = retas_reason_template(reason);

	if (!tmpl)
		return -ENOENT;
	return retas_reason_format(translate ? _(tmpl) : tmpl, args, out);
}
