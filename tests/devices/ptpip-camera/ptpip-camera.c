/*
 * ptpip-camera: a virtual PTP/IP camera for the tests and the demo.
 *
 * It speaks PTP over TCP as CIPA DC-005 (PTP/IP) describes it: an initiator
 * opens a command connection (Init_Command_Request -> Init_Command_Ack with a
 * connection number), then an event connection on the same port naming that
 * number (Init_Event_Request -> Init_Event_Ack). Operations, data phases and
 * responses travel on the command connection, events on the event one. On
 * top it answers the generic PTP (ISO 15740) operation set a still camera
 * needs: sessions, device and storage info, object handles, info and data,
 * partial reads, deletion, and InitiateCapture answered by ObjectAdded and
 * CaptureComplete events. libgphoto2's ptp2 camlib reaches it as model
 * "PTP/IP Camera", port "ptpip:127.0.0.1:P:P".
 *
 * Each capture stores the next photo of the given list (cycling) as a new
 * object. One initiator at a time, as a real camera: a second one is turned
 * away with Init_Fail. Fault modes (--fault, or "fault MODE [N]" on stdin)
 * break the next N captures (or connections) in one of the ways cameras do.
 *
 * stdout carries one line per thing a test may wait for ("ready port=P",
 * "captured handle=H name=N size=S", "deleted handle=H name=N", ...), flushed
 * at once; tests wait for lines, never sleep. The camera exits on SIGINT,
 * SIGTERM, "quit" on stdin or end of stdin (with --stdin), so a test that dies
 * leaves no camera behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jpeg-synth.h"

/* PTP/IP packet types (CIPA DC-005 §2.3). */
enum {
	PKT_INIT_CMD_REQ = 1,
	PKT_INIT_CMD_ACK = 2,
	PKT_INIT_EVT_REQ = 3,
	PKT_INIT_EVT_ACK = 4,
	PKT_INIT_FAIL = 5,
	PKT_OP_REQ = 6,
	PKT_OP_RESP = 7,
	PKT_EVENT = 8,
	PKT_START_DATA = 9,
	PKT_DATA = 10,
	PKT_CANCEL = 11,
	PKT_END_DATA = 12,
	PKT_PROBE_REQ = 13,
	PKT_PROBE_RESP = 14,
};

#define INIT_FAIL_BUSY 2

/* PTP operation, response and event codes (ISO 15740 / PIMA 15740). */
enum {
	OP_GET_DEVICE_INFO = 0x1001,
	OP_OPEN_SESSION = 0x1002,
	OP_CLOSE_SESSION = 0x1003,
	OP_GET_STORAGE_IDS = 0x1004,
	OP_GET_STORAGE_INFO = 0x1005,
	OP_GET_NUM_OBJECTS = 0x1006,
	OP_GET_OBJECT_HANDLES = 0x1007,
	OP_GET_OBJECT_INFO = 0x1008,
	OP_GET_OBJECT = 0x1009,
	OP_DELETE_OBJECT = 0x100B,
	OP_INITIATE_CAPTURE = 0x100E,
	OP_GET_PARTIAL_OBJECT = 0x101B,

	RC_OK = 0x2001,
	RC_GENERAL_ERROR = 0x2002,
	RC_SESSION_NOT_OPEN = 0x2003,
	RC_OPERATION_NOT_SUPPORTED = 0x2005,
	RC_INVALID_STORAGE_ID = 0x2008,
	RC_INVALID_OBJECT_HANDLE = 0x2009,
	RC_DEVICE_PROP_NOT_SUPPORTED = 0x200A,
	RC_DEVICE_BUSY = 0x2019,
	RC_INVALID_PARAMETER = 0x201D,
	RC_SESSION_ALREADY_OPEN = 0x201E,

	EV_OBJECT_ADDED = 0x4002,
	EV_OBJECT_REMOVED = 0x4003,
	EV_CAPTURE_COMPLETE = 0x400D,

	FMT_EXIF_JPEG = 0x3801,
	STORAGE_ID = 0x00010001,
};

static const uint16_t supported_ops[] = {
    OP_GET_DEVICE_INFO,	 OP_OPEN_SESSION,    OP_CLOSE_SESSION,	    OP_GET_STORAGE_IDS,
    OP_GET_STORAGE_INFO, OP_GET_NUM_OBJECTS, OP_GET_OBJECT_HANDLES, OP_GET_OBJECT_INFO,
    OP_GET_OBJECT,	 OP_DELETE_OBJECT,   OP_INITIATE_CAPTURE,   OP_GET_PARTIAL_OBJECT,
};
static const uint16_t supported_events[] = {EV_OBJECT_ADDED, EV_OBJECT_REMOVED,
					    EV_CAPTURE_COMPLETE};

enum fault {
	FAULT_NONE,
	FAULT_BUSY,	   /* InitiateCapture answered DeviceBusy */
	FAULT_NO_COMPLETE, /* InitiateCapture OK, then no event ever */
	FAULT_DROP,	   /* the photo's download stops halfway and the camera hangs up */
	FAULT_SILENT,	   /* InitiateCapture gets no response at all; the camera stops talking */
	FAULT_REFUSE,	   /* a new connection is turned away with Init_Fail */
};

static const char *const fault_names[] = {
    [FAULT_NONE] = "none",	    [FAULT_BUSY] = "busy",     [FAULT_NO_COMPLETE] = "no-complete",
    [FAULT_DROP] = "drop-download", [FAULT_SILENT] = "silent", [FAULT_REFUSE] = "refuse",
};

struct photo {
	uint8_t *data;
	size_t size;
};

struct object {
	uint32_t handle;
	const struct photo *photo;
	char name[16];
	bool drop_on_download;
};

#define MAX_OBJECTS 64
#define MAX_PACKET (1u << 20)
#define CHUNK (256u * 1024u)

struct camera {
	int listen_fd;
	int cmd_fd;
	int evt_fd;
	uint32_t conn_number;
	bool session_open;
	bool silent;

	struct photo *photos;
	size_t n_photos;
	size_t next_photo;

	struct object objects[MAX_OBJECTS];
	size_t n_objects;
	uint32_t next_handle;
	unsigned captures;

	enum fault fault;
	unsigned fault_left;

	const char *manufacturer;
	const char *model;
	bool watch_stdin;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- little-endian buffer building ------------------------------------ */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	if (b->oom || b->len + more <= b->cap)
		return;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void put8(struct buf *b, uint8_t v)
{
	buf_reserve(b, 1);
	if (!b->oom)
		b->p[b->len++] = v;
}

static void put16(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)v);
	put8(b, (uint8_t)(v >> 8));
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b, (uint16_t)(v >> 16));
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

/* PTP string: a count of UCS-2 units including the terminator, then the
 * units; the empty string is a single 0 byte. ASCII only here. */
static void put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n == 0) {
		put8(b, 0);
		return;
	}
	if (n > 254)
		n = 254;
	put8(b, (uint8_t)(n + 1));
	for (size_t i = 0; i < n; i++)
		put16(b, (uint8_t)s[i]);
	put16(b, 0);
}

static void put_u16_array(struct buf *b, const uint16_t *v, size_t n)
{
	put32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		put16(b, v[i]);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --- socket I/O --------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *data, size_t len)
{
	uint8_t *p = data;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one packet: *type and a malloc'd payload of *len bytes. */
static int read_packet(int fd, uint32_t *type, uint8_t **payload, size_t *len)
{
	uint8_t hdr[8];
	uint32_t total;
	uint8_t *p = NULL;
	int r;

	r = read_all(fd, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	total = get32(hdr);
	if (total < 8 || total > MAX_PACKET)
		return -EBADMSG;
	p = malloc(total - 8 + 1);
	if (!p)
		return -ENOMEM;
	r = read_all(fd, p, total - 8);
	if (r < 0) {
		free(p);
		return r;
	}
	*type = get32(hdr + 4);
	*payload = p;
	*len = total - 8;
	return 0;
}

/* Sends a packet whose payload is body (header added here). */
static int send_packet(int fd, uint32_t type, const uint8_t *body, size_t len)
{
	uint8_t hdr[8];
	int r;

	hdr[0] = (uint8_t)(len + 8);
	hdr[1] = (uint8_t)((len + 8) >> 8);
	hdr[2] = (uint8_t)((len + 8) >> 16);
	hdr[3] = (uint8_t)((len + 8) >> 24);
	hdr[4] = (uint8_t)type;
	hdr[5] = hdr[6] = hdr[7] = 0;
	r = write_all(fd, hdr, sizeof(hdr));
	if (r >= 0 && len)
		r = write_all(fd, body, len);
	return r;
}

static int send_response(struct camera *c, uint16_t code, uint32_t tid, const uint32_t *params,
			 size_t n)
{
	struct buf b = {0};
	int r;

	put16(&b, code);
	put32(&b, tid);
	for (size_t i = 0; i < n; i++)
		put32(&b, params[i]);
	r = b.oom ? -ENOMEM : send_packet(c->cmd_fd, PKT_OP_RESP, b.p, b.len);
	free(b.p);
	return r;
}

static int send_event(struct camera *c, uint16_t code, uint32_t tid, const uint32_t *params,
		      size_t n)
{
	struct buf b = {0};
	int r;

	if (c->evt_fd < 0)
		return -ENOTCONN;
	put16(&b, code);
	put32(&b, tid);
	for (size_t i = 0; i < n; i++)
		put32(&b, params[i]);
	r = b.oom ? -ENOMEM : send_packet(c->evt_fd, PKT_EVENT, b.p, b.len);
	free(b.p);
	return r;
}

/*
 * Data phase to the initiator: Start_Data (transaction, total length u64),
 * Data packets, the last one as End_Data. With stop_after set, only that
 * many payload bytes go out and -ECONNABORTED comes back, for FAULT_DROP.
 */
static int send_data(struct camera *c, uint32_t tid, const uint8_t *data, size_t len,
		     size_t stop_after)
{
	uint8_t start[12], head[4];
	size_t off = 0;
	int r;

	memcpy(start,
	       (uint8_t[]){(uint8_t)tid, (uint8_t)(tid >> 8), (uint8_t)(tid >> 16),
			   (uint8_t)(tid >> 24)},
	       4);
	for (int i = 0; i < 8; i++)
		start[4 + i] = (uint8_t)((uint64_t)len >> (8 * i));
	r = send_packet(c->cmd_fd, PKT_START_DATA, start, sizeof(start));
	memcpy(head, start, 4);
	do {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		bool last = off + n == len;
		uint8_t hdr[12];
		uint32_t total = (uint32_t)(n + 12);

		if (r < 0)
			break;
		if (stop_after && off + n > stop_after) {
			n = stop_after - off;
			last = false;
			total = (uint32_t)(CHUNK + 12); /* announce more than will come */
		}
		for (int i = 0; i < 4; i++)
			hdr[i] = (uint8_t)(total >> (8 * i));
		hdr[4] = last ? PKT_END_DATA : PKT_DATA;
		hdr[5] = hdr[6] = hdr[7] = 0;
		memcpy(hdr + 8, head, 4);
		r = write_all(c->cmd_fd, hdr, sizeof(hdr));
		if (r >= 0 && n)
			r = write_all(c->cmd_fd, data + off, n);
		off += n;
		if (r >= 0 && stop_after && off >= stop_after)
			return -ECONNABORTED;
	} while (off < len);
	return r;
}

/* --- objects ------------------------------------------------------------ */

static struct object *find_object(struct camera *c, uint32_t handle)
{
	for (size_t i = 0; i < c->n_objects; i++)
		if (c->objects[i].handle == handle)
			return &c->objects[i];
	return NULL;
}

static void remove_object(struct camera *c, struct object *o)
{
	size_t i = (size_t)(o - c->objects);

	say("deleted handle=0x%08x name=%s", o->handle, o->name);
	memmove(&c->objects[i], &c->objects[i + 1], (c->n_objects - i - 1) * sizeof(*o));
	c->n_objects--;
}

/* JPEG frame size from the first SOFn marker, for ObjectInfo; 0 when absent. */
static void jpeg_size(const struct photo *p, uint32_t *w, uint32_t *h)
{
	const uint8_t *d = p->data;
	size_t i = 2;

	*w = *h = 0;
	while (i + 9 < p->size) {
		uint8_t m;
		size_t seg;

		if (d[i] != 0xFF)
			return;
		m = d[i + 1];
		if (m == 0xFF) {
			i++;
			continue;
		}
		seg = (size_t)(d[i + 2] << 8 | d[i + 3]);
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			*h = (uint32_t)(d[i + 5] << 8 | d[i + 6]);
			*w = (uint32_t)(d[i + 7] << 8 | d[i + 8]);
			return;
		}
		i += 2 + seg;
	}
}

/* --- operations ---------------------------------------------------------- */

static void build_device_info(struct camera *c, struct buf *b)
{
	static const uint16_t formats[] = {FMT_EXIF_JPEG};

	put16(b, 100); /* StandardVersion 1.00 */
	put32(b, 0);   /* VendorExtensionID: none, so libgphoto2 applies no vendor quirks */
	put16(b, 0);   /* VendorExtensionVersion */
	put_str(b, "");
	put16(b, 0); /* FunctionalMode: standard */
	put_u16_array(b, supported_ops, sizeof(supported_ops) / sizeof(supported_ops[0]));
	put_u16_array(b, supported_events, sizeof(supported_events) / sizeof(supported_events[0]));
	put_u16_array(b, NULL, 0);    /* DevicePropertiesSupported */
	put_u16_array(b, formats, 1); /* CaptureFormats */
	put_u16_array(b, formats, 1); /* ImageFormats */
	put_str(b, c->manufacturer);
	put_str(b, c->model);
	put_str(b, "1.0");
	put_str(b, "VC0000000001");
}

static void build_storage_info(struct camera *c, struct buf *b)
{
	put16(b, 0x0004); /* StorageType: removable RAM */
	put16(b, 0x0002); /* FilesystemType: generic hierarchical */
	put16(b, 0x0000); /* AccessCapability: read-write */
	put64(b, 2ull << 30);
	put64(b, 1ull << 30);
	put32(b, 0xFFFFFFFF);
	put_str(b, "Virtual card");
	put_str(b, "RETAS");
}

static void build_object_info(const struct object *o, struct buf *b)
{
	uint32_t w, h;

	jpeg_size(o->photo, &w, &h);
	put32(b, STORAGE_ID);
	put16(b, FMT_EXIF_JPEG);
	put16(b, 0); /* no protection */
	put32(b, (uint32_t)o->photo->size);
	put16(b, 0); /* no thumbnail */
	put32(b, 0);
	put32(b, 0);
	put32(b, 0);
	put32(b, w);
	put32(b, h);
	put32(b, 24);
	put32(b, 0); /* parent: the storage root */
	put16(b, 0);
	put32(b, 0);
	put32(b, 0);
	put_str(b, o->name);
	put_str(b, "20261124T080000");
	put_str(b, "20261124T080000");
	put_str(b, "");
}

static int reply_dataset(struct camera *c, uint32_t tid, struct buf *b)
{
	int r;

	if (b->oom)
		r = send_response(c, RC_GENERAL_ERROR, tid, NULL, 0);
	else if ((r = send_data(c, tid, b->p, b->len, 0)) >= 0)
		r = send_response(c, RC_OK, tid, NULL, 0);
	free(b->p);
	return r;
}

static int op_initiate_capture(struct camera *c, uint32_t tid)
{
	enum fault f = FAULT_NONE;
	struct object *o;
	uint32_t p;
	int r;

	if (c->fault_left > 0 && c->fault != FAULT_REFUSE) {
		f = c->fault;
		if (--c->fault_left == 0)
			c->fault = FAULT_NONE;
		say("fault %s", fault_names[f]);
	}
	switch (f) {
	case FAULT_BUSY:
		return send_response(c, RC_DEVICE_BUSY, tid, NULL, 0);
	case FAULT_SILENT:
		c->silent = true;
		return 0;
	case FAULT_NO_COMPLETE:
		return send_response(c, RC_OK, tid, NULL, 0);
	default:
		break;
	}
	if (c->n_objects == MAX_OBJECTS)
		return send_response(c, 0x200C /* StoreFull */, tid, NULL, 0);
	o = &c->objects[c->n_objects++];
	memset(o, 0, sizeof(*o));
	o->handle = c->next_handle++;
	o->photo = &c->photos[c->next_photo];
	c->next_photo = (c->next_photo + 1) % c->n_photos;
	snprintf(o->name, sizeof(o->name), "IMG_%04u.JPG", ++c->captures % 10000);
	o->drop_on_download = f == FAULT_DROP;
	r = send_response(c, RC_OK, tid, NULL, 0);
	if (r < 0)
		return r;
	say("captured handle=0x%08x name=%s size=%zu", o->handle, o->name, o->photo->size);
	p = o->handle;
	r = send_event(c, EV_OBJECT_ADDED, tid, &p, 1);
	if (r >= 0)
		r = send_event(c, EV_CAPTURE_COMPLETE, tid, NULL, 0);
	return r;
}

static int op_get_object(struct camera *c, uint32_t tid, uint16_t code, const uint32_t *param,
			 size_t np)
{
	struct object *o = np >= 1 ? find_object(c, param[0]) : NULL;
	size_t off = 0, len;
	int r;

	if (!o)
		return send_response(c, RC_INVALID_OBJECT_HANDLE, tid, NULL, 0);
	len = o->photo->size;
	if (code == OP_GET_PARTIAL_OBJECT) {
		if (np < 3)
			return send_response(c, RC_INVALID_PARAMETER, tid, NULL, 0);
		off = param[1];
		if (off > len)
			return send_response(c, RC_INVALID_PARAMETER, tid, NULL, 0);
		len = len - off < param[2] ? len - off : param[2];
	}
	if (o->drop_on_download) {
		o->drop_on_download = false;
		say("fault-drop handle=0x%08x after=%zu", o->handle, len / 2);
		return send_data(c, tid, o->photo->data + off, len, len / 2 ? len / 2 : 1);
	}
	r = send_data(c, tid, o->photo->data + off, len, 0);
	if (r < 0)
		return r;
	say("downloaded handle=0x%08x offset=%zu size=%zu", o->handle, off, len);
	if (code == OP_GET_PARTIAL_OBJECT) {
		uint32_t sent = (uint32_t)len;

		return send_response(c, RC_OK, tid, &sent, 1);
	}
	return send_response(c, RC_OK, tid, NULL, 0);
}

static int op_delete_object(struct camera *c, uint32_t tid, const uint32_t *param, size_t np)
{
	struct object *o;

	if (np >= 1 && param[0] == 0xFFFFFFFF) {
		while (c->n_objects)
			remove_object(c, &c->objects[0]);
		return send_response(c, RC_OK, tid, NULL, 0);
	}
	o = np >= 1 ? find_object(c, param[0]) : NULL;
	if (!o)
		return send_response(c, RC_INVALID_OBJECT_HANDLE, tid, NULL, 0);
	remove_object(c, o);
	return send_response(c, RC_OK, tid, NULL, 0);
}

static int handle_operation(struct camera *c, const uint8_t *p, size_t len)
{
	uint32_t param[5] = {0}, tid;
	struct buf b = {0};
	uint16_t code;
	size_t np;

	if (len < 10)
		return -EBADMSG;
	code = get16(p + 4);
	tid = get32(p + 6);
	np = (len - 10) / 4;
	if (np > 5)
		np = 5;
	for (size_t i = 0; i < np; i++)
		param[i] = get32(p + 10 + 4 * i);
	if (get32(p) == 2) /* a data phase from the initiator: none of ours takes one */
		return -EBADMSG;

	if (!c->session_open && code != OP_GET_DEVICE_INFO && code != OP_OPEN_SESSION)
		return send_response(c, RC_SESSION_NOT_OPEN, tid, NULL, 0);

	switch (code) {
	case OP_GET_DEVICE_INFO:
		build_device_info(c, &b);
		return reply_dataset(c, tid, &b);
	case OP_OPEN_SESSION:
		if (c->session_open)
			return send_response(c, RC_SESSION_ALREADY_OPEN, tid, param, 1);
		if (np < 1 || param[0] == 0)
			return send_response(c, RC_INVALID_PARAMETER, tid, NULL, 0);
		c->session_open = true;
		say("session-open id=%u", param[0]);
		return send_response(c, RC_OK, tid, NULL, 0);
	case OP_CLOSE_SESSION:
		c->session_open = false;
		say("session-closed");
		return send_response(c, RC_OK, tid, NULL, 0);
	case OP_GET_STORAGE_IDS:
		put32(&b, 1);
		put32(&b, STORAGE_ID);
		return reply_dataset(c, tid, &b);
	case OP_GET_STORAGE_INFO:
		if (np < 1 || param[0] != STORAGE_ID)
			return send_response(c, RC_INVALID_STORAGE_ID, tid, NULL, 0);
		build_storage_info(c, &b);
		return reply_dataset(c, tid, &b);
	case OP_GET_NUM_OBJECTS:
	case OP_GET_OBJECT_HANDLES: {
		/* Every object lives in the storage root: a parent of 0 or
		 * 0xFFFFFFFF (any) lists them, another parent has no children. */
		bool any = np < 3 || param[2] == 0 || param[2] == 0xFFFFFFFF;
		uint32_t n = any ? (uint32_t)c->n_objects : 0;

		if (np >= 1 && param[0] != STORAGE_ID && param[0] != 0xFFFFFFFF)
			return send_response(c, RC_INVALID_STORAGE_ID, tid, NULL, 0);
		if (code == OP_GET_NUM_OBJECTS)
			return send_response(c, RC_OK, tid, &n, 1);
		put32(&b, n);
		for (uint32_t i = 0; i < n; i++)
			put32(&b, c->objects[i].handle);
		return reply_dataset(c, tid, &b);
	}
	case OP_GET_OBJECT_INFO: {
		struct object *o = np >= 1 ? find_object(c, param[0]) : NULL;

		if (!o)
			return send_response(c, RC_INVALID_OBJECT_HANDLE, tid, NULL, 0);
		build_object_info(o, &b);
		return reply_dataset(c, tid, &b);
	}
	case OP_GET_OBJECT:
	case OP_GET_PARTIAL_OBJECT:
		return op_get_object(c, tid, code, param, np);
	case OP_DELETE_OBJECT:
		return op_delete_object(c, tid, param, np);
	case OP_INITIATE_CAPTURE:
		return op_initiate_capture(c, tid);
	case 0x1014: /* GetDevicePropDesc: we list no properties */
	case 0x1015:
		return send_response(c, RC_DEVICE_PROP_NOT_SUPPORTED, tid, NULL, 0);
	default:
		say("unsupported op=0x%04x", code);
		return send_response(c, RC_OPERATION_NOT_SUPPORTED, tid, NULL, 0);
	}
}

/* --- connections --------------------------------------------------------- */

static void drop_initiator(struct camera *c, const char *why)
{
	if (c->cmd_fd >= 0)
		close(c->cmd_fd);
	if (c->evt_fd >= 0)
		close(c->evt_fd);
	c->cmd_fd = c->evt_fd = -1;
	c->session_open = false;
	c->silent = false;
	say("disconnected reason=%s", why);
}

static void refuse(int fd)
{
	uint8_t reason[4] = {INIT_FAIL_BUSY, 0, 0, 0};

	send_packet(fd, PKT_INIT_FAIL, reason, sizeof(reason));
	close(fd);
}

/* A new TCP connection: its first packet says whether it is a command or an
 * event connection. A silent peer gets two seconds. */
static void accept_connection(struct camera *c)
{
	struct timeval tv = {.tv_sec = 2};
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;
	int fd, one = 1;

	fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (read_packet(fd, &type, &p, &len) < 0) {
		close(fd);
		return;
	}
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	if (type == PKT_INIT_CMD_REQ && len >= 16 + 2 + 4) {
		struct buf b = {0};

		if (c->fault == FAULT_REFUSE && c->fault_left > 0) {
			if (--c->fault_left == 0)
				c->fault = FAULT_NONE;
			say("fault refuse");
			refuse(fd);
		} else if (c->cmd_fd >= 0) {
			say("refused reason=busy");
			refuse(fd);
		} else {
			c->cmd_fd = fd;
			c->conn_number++;
			put32(&b, c->conn_number);
			for (int i = 0; i < 16; i++)
				put8(&b, (uint8_t)(0xA0 + i)); /* responder GUID */
			for (const char *s = c->model; *s; s++)
				put16(&b, (uint8_t)*s);
			put16(&b, 0);
			put32(&b, 0x00010000); /* protocol version 1.0 */
			if (b.oom || send_packet(fd, PKT_INIT_CMD_ACK, b.p, b.len) < 0)
				drop_initiator(c, "init-failed");
			free(b.p);
		}
	} else if (type == PKT_INIT_EVT_REQ && len >= 4 && c->cmd_fd >= 0 && c->evt_fd < 0 &&
		   get32(p) == c->conn_number) {
		c->evt_fd = fd;
		if (send_packet(fd, PKT_INIT_EVT_ACK, NULL, 0) < 0)
			drop_initiator(c, "init-failed");
		else
			say("connected connection=%u", c->conn_number);
	} else if (type == PKT_INIT_EVT_REQ) {
		uint8_t reason[4] = {1, 0, 0, 0}; /* rejected initiator */

		send_packet(fd, PKT_INIT_FAIL, reason, sizeof(reason));
		close(fd);
	} else {
		close(fd);
	}
	free(p);
}

static void serve_command(struct camera *c)
{
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;
	int r;

	r = read_packet(c->cmd_fd, &type, &p, &len);
	if (r < 0) {
		drop_initiator(c, r == -ECONNRESET ? "closed" : "read-error");
		return;
	}
	if (c->silent) {
		free(p);
		return;
	}
	switch (type) {
	case PKT_OP_REQ:
		r = handle_operation(c, p, len);
		break;
	case PKT_PROBE_REQ:
		r = send_packet(c->cmd_fd, PKT_PROBE_RESP, NULL, 0);
		break;
	default:
		r = -EBADMSG;
		break;
	}
	free(p);
	if (r == -ECONNABORTED)
		drop_initiator(c, "fault-drop");
	else if (r < 0)
		drop_initiator(c, r == -EBADMSG ? "bad-packet" : "write-error");
}

/* The event connection carries nothing from the initiator but probes; any
 * read error or end means the initiator is gone. */
static void serve_event(struct camera *c)
{
	uint8_t *p = NULL;
	uint32_t type;
	size_t len;

	if (read_packet(c->evt_fd, &type, &p, &len) < 0) {
		drop_initiator(c, "closed");
		return;
	}
	if (type == PKT_PROBE_REQ && !c->silent)
		send_packet(c->evt_fd, PKT_PROBE_RESP, NULL, 0);
	free(p);
}

static bool parse_fault(struct camera *c, const char *spec)
{
	char name[32];
	unsigned n = 1;
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	if (len >= sizeof(name))
		return false;
	memcpy(name, spec, len);
	name[len] = 0;
	if (colon) {
		char *end;
		unsigned long v = strtoul(colon + 1, &end, 10);

		if (*end || v == 0 || v > 1000)
			return false;
		n = (unsigned)v;
	}
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++) {
		if (strcmp(name, fault_names[i]) == 0) {
			c->fault = (enum fault)i;
			c->fault_left = i == FAULT_NONE ? 0 : n;
			return true;
		}
	}
	return false;
}

/* One control line on stdin: "fault MODE[:N]", "objects", "quit". */
static bool control_line(struct camera *c, char *line)
{
	line[strcspn(line, "\r\n")] = 0;
	if (strncmp(line, "fault ", 6) == 0) {
		if (parse_fault(c, line + 6))
			say("armed fault=%s count=%u", fault_names[c->fault], c->fault_left);
		else
			say("error unknown fault '%s'", line + 6);
	} else if (strcmp(line, "objects") == 0) {
		say("objects count=%zu", c->n_objects);
	} else if (strcmp(line, "quit") == 0) {
		return false;
	} else if (*line) {
		say("error unknown command '%s'", line);
	}
	return true;
}

static int load_photo(struct photo *ph, const char *path)
{
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (1 << 30)) {
		close(fd);
		return -EINVAL;
	}
	ph->size = (size_t)st.st_size;
	ph->data = malloc(ph->size);
	if (!ph->data)
		r = -ENOMEM;
	else
		r = read_all(fd, ph->data, ph->size);
	close(fd);
	return r;
}

static int synth_photo(struct photo *ph, const char *spec)
{
	struct synth_opts o = {.pattern = SYNTH_PHOTO, .orientation = 1, .seed = 1};
	char tail;
	int n;

	n = sscanf(spec, "%dx%d%c", &o.width, &o.height, &tail);
	if (n != 2)
		return -EINVAL;
	return synth_jpeg(&o, &ph->data, &ph->size);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ptpip-camera [OPTIONS]\n"
	    "A virtual PTP/IP camera on the loopback interface.\n\n"
	    "  --port N           TCP port for command and event connections (default 15740,\n"
	    "                     0 picks a free one); the port is printed as 'ready port=N'\n"
	    "  --image FILE       a JPEG to hand out on capture; repeat for several, used in turn\n"
	    "  --synth WxH        generate a photo-like JPEG of that size instead\n"
	    "  --fault MODE[:N]   break the next N captures (default 1): busy, no-complete,\n"
	    "                     drop-download, silent; or refuse the next N connections: refuse\n"
	    "  --manufacturer S   DeviceInfo manufacturer (default 'RETAS Test Devices')\n"
	    "  --model S          DeviceInfo model (default 'Virtual PTP/IP Camera')\n"
	    "  --stdin            read control lines from stdin ('fault MODE[:N]', 'objects',\n"
	    "                     'quit') and exit when stdin ends\n"
	    "  --help             this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"image", required_argument, NULL, 'i'},
	    {"synth", required_argument, NULL, 's'},
	    {"fault", required_argument, NULL, 'f'},
	    {"manufacturer", required_argument, NULL, 'M'},
	    {"model", required_argument, NULL, 'm'},
	    {"stdin", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct camera c = {
	    .listen_fd = -1,
	    .cmd_fd = -1,
	    .evt_fd = -1,
	    .next_handle = 0x00000101,
	    .manufacturer = "RETAS Test Devices",
	    .model = "Virtual PTP/IP Camera",
	};
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(15740)};
	socklen_t alen = sizeof(addr);
	struct sigaction sa = {.sa_handler = on_signal};
	char line[256];
	size_t line_len = 0;
	int opt, one = 1, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		struct photo *more;
		char *end;
		unsigned long v;

		switch (opt) {
		case 'p':
			v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v > 65535) {
				fprintf(stderr, "ptpip-camera: bad port '%s'\n", optarg);
				return 2;
			}
			addr.sin_port = htons((uint16_t)v);
			break;
		case 'i':
		case 's':
			more = realloc(c.photos, (c.n_photos + 1) * sizeof(*more));
			if (!more)
				return 1;
			c.photos = more;
			r = opt == 'i' ? load_photo(&c.photos[c.n_photos], optarg)
				       : synth_photo(&c.photos[c.n_photos], optarg);
			if (r < 0) {
				fprintf(stderr, "ptpip-camera: cannot use %s '%s': %s\n",
					opt == 'i' ? "image" : "size", optarg, strerror(-r));
				return 2;
			}
			c.n_photos++;
			break;
		case 'f':
			if (!parse_fault(&c, optarg)) {
				fprintf(stderr, "ptpip-camera: unknown fault '%s'\n", optarg);
				return 2;
			}
			break;
		case 'M':
			c.manufacturer = optarg;
			break;
		case 'm':
			c.model = optarg;
			break;
		case 'S':
			c.watch_stdin = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (c.n_photos == 0) {
		c.photos = calloc(1, sizeof(*c.photos));
		if (!c.photos || synth_photo(&c.photos[0], "1200x1600") < 0)
			return 1;
		c.n_photos = 1;
	}

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.listen_fd < 0 ||
	    setsockopt(c.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(c.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(c.listen_fd, 4) < 0 ||
	    getsockname(c.listen_fd, (struct sockaddr *)&addr, &alen) < 0) {
		fprintf(stderr, "ptpip-camera: cannot listen on 127.0.0.1:%u: %s\n",
			ntohs(addr.sin_port), strerror(errno));
		return 1;
	}
	say("ready port=%u", ntohs(addr.sin_port));

	while (!stop_requested) {
		struct pollfd pfd[4] = {
		    {.fd = c.listen_fd, .events = POLLIN},
		    {.fd = c.cmd_fd, .events = POLLIN},
		    {.fd = c.evt_fd, .events = POLLIN},
		    {.fd = c.watch_stdin ? STDIN_FILENO : -1, .events = POLLIN},
		};

		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[3].revents) {
			ssize_t n =
			    read(STDIN_FILENO, line + line_len, sizeof(line) - 1 - line_len);
			bool go_on = n > 0;

			if (n > 0) {
				char *nl;

				line_len += (size_t)n;
				line[line_len] = 0;
				while (go_on && (nl = strchr(line, '\n'))) {
					*nl = 0;
					go_on = control_line(&c, line);
					line_len -= (size_t)(nl + 1 - line);
					memmove(line, nl + 1, line_len + 1);
				}
				if (line_len == sizeof(line) - 1)
					line_len = 0; /* an overlong line is dropped */
			}
			if (!go_on)
				break;
		}
		if (pfd[1].revents && c.cmd_fd >= 0)
			serve_command(&c);
		if (pfd[2].revents && c.evt_fd >= 0)
			serve_event(&c);
		if (pfd[0].revents)
			accept_connection(&c);
	}
	if (c.cmd_fd >= 0)
		drop_initiator(&c, "exit");
	close(c.listen_fd);
	for (size_t i = 0; i < c.n_photos; i++)
		free(c.photos[i].data);
	free(c.photos);
	say("exit");
	return 0;
}
