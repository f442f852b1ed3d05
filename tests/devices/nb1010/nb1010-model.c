/*
 * A model of the NEXT Biometrics NB-1010-U for tests: writes the umockdev
 * description of the reader and, per scenario, the usbmon capture
 * (DLT_USB_LINUX_MMAPPED pcap) the reader would produce when the driver
 * does exactly what the protocol in shared/DESIGN.md section 3.3 says.
 * `umockdev-run -d nb1010.umockdev -p SYSFS=SCENARIO.pcap` replays it under
 * the real driver and libusb: umockdev matches every URB the driver submits
 * in order, by type, endpoint, length and OUT bytes, so any drift from the
 * protocol stalls the replay and fails the test.
 *
 * The model writes its images too (finger-a.raw, finger-b.raw: 256 x 180
 * bytes from the synthetic ridge generator) so tests compare what the
 * driver assembled with what the reader sent, byte for byte.
 *
 * It deliberately shares no code or constants with the driver.
 *
 * usage: nb1010-model OUTDIR
 *        nb1010-model OUTDIR --sequence NAME SPEC
 *
 * The sequence mode writes one capture NAME.pcap for a whole scripted run
 * of presses in the order a caller makes them (the reader's replay matches
 * URBs strictly in order, so a class's fingers are one capture): SPEC has
 * one letter per press, 'g' a good finger (a different synthetic finger
 * each) or 'l' a press the quality check rejects (an almost blank image),
 * or 'w' for a wait: the finger lifts and none comes for 200 polls.
 * Every press after the first starts with the previous finger lifting.
 * It also writes NAME-N.raw, the image of press N (1-based).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

#define W 256
#define H 180
#define BUS 3
#define ADDR 7
#define SYSFS "/devices/pci0000:00/0000:00:14.0/usb3/3-2"
#define SERIAL "NB1010-SYNTH-0042"

#define LEVEL_PRESENT 0xc0
#define LEVEL_ABSENT 0x10
#define LEVEL_LIFTED 0x08

/* usbmon event and transfer types, and the errno values URBs complete with */
#define URB_BULK 3
#define ST_EPIPE (-32)
#define ST_ENODEV (-19)
#define ST_INPROGRESS (-115)

static const uint8_t cmd_check[8] = {0x80, 0x38, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00};
static const uint8_t cmd_pre[12] = {0x80, 0x0d, 0x03, 0x00, 0x0c, 0x00,
				    0x00, 0x00, 0x00, 0x04, 0x00, 0x00};
static uint8_t cmd_capture[32];

static uint8_t finger_a[W * H], finger_b[W * H];

struct pcap {
	FILE *f;
	uint64_t id;
	int64_t t_us;
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void put(struct pcap *p, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, p->f) != len)
		die("write pcap");
}

static void put_le(struct pcap *p, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(p, b, bytes);
}

/* One usbmon record: the 64-byte mmapped header, then data_len bytes. */
static void record(struct pcap *p, uint64_t id, char event, uint8_t ep, int32_t status,
		   uint32_t urb_len, const uint8_t *data, uint32_t data_len)
{
	int64_t sec = p->t_us / 1000000, usec = p->t_us % 1000000;

	/* pcap record header */
	put_le(p, (uint64_t)sec, 4);
	put_le(p, (uint64_t)usec, 4);
	put_le(p, 64 + data_len, 4);
	put_le(p, 64 + data_len, 4);
	/* struct usbmon_packet with the mmapped trailer */
	put_le(p, id, 8);
	put_le(p, (uint8_t)event, 1);
	put_le(p, URB_BULK, 1);
	put_le(p, ep, 1);
	put_le(p, ADDR, 1);
	put_le(p, BUS, 2);
	put_le(p, '-', 1);		  /* no setup packet */
	put_le(p, data_len ? 0 : '<', 1); /* 0: data follows */
	put_le(p, (uint64_t)sec, 8);
	put_le(p, (uint64_t)usec, 4);
	put_le(p, (uint32_t)status, 4);
	put_le(p, urb_len, 4);
	put_le(p, data_len, 4);
	put_le(p, 0, 8); /* setup */
	put_le(p, 0, 4); /* interval */
	put_le(p, 0, 4); /* start frame */
	put_le(p, 0, 4); /* transfer flags */
	put_le(p, 0, 4); /* iso descriptors */
	put(p, data, data_len);
	p->t_us += 150;
}

static struct pcap *pcap_open(const char *dir, const char *name)
{
	char path[4096];
	struct pcap *p = calloc(1, sizeof(*p));

	if (!p)
		die("calloc");
	snprintf(path, sizeof(path), "%s/%s.pcap", dir, name);
	p->f = fopen(path, "wb");
	if (!p->f)
		die(path);
	p->id = 0xffff9a0c41d27000ull;
	p->t_us = 1700000000ll * 1000000;
	put_le(p, 0xa1b2c3d4, 4); /* classic pcap, microseconds */
	put_le(p, 2, 2);
	put_le(p, 4, 2);
	put_le(p, 0, 4);
	put_le(p, 0, 4);
	put_le(p, 65535 + 64, 4);
	put_le(p, 220, 4); /* LINKTYPE_USB_LINUX_MMAPPED */
	return p;
}

static void pcap_close(struct pcap *p)
{
	if (fclose(p->f) != 0)
		die("close pcap");
	free(p);
}

static void wait_ms(struct pcap *p, unsigned ms)
{
	p->t_us += (int64_t)ms * 1000;
}

static void bulk_out(struct pcap *p, const uint8_t *data, size_t len)
{
	uint64_t id = p->id += 0x100;

	record(p, id, 'S', 0x02, ST_INPROGRESS, (uint32_t)len, data, (uint32_t)len);
	record(p, id, 'C', 0x02, 0, (uint32_t)len, NULL, 0);
}

/* A bulk IN of want bytes answered with len bytes of data and status. */
static void bulk_in(struct pcap *p, size_t want, const uint8_t *data, size_t len, int32_t status)
{
	uint64_t id = p->id += 0x100;

	record(p, id, 'S', 0x83, ST_INPROGRESS, (uint32_t)want, NULL, 0);
	record(p, id, 'C', 0x83, status, (uint32_t)len, data, (uint32_t)len);
}

/* A bulk IN the reader never answers. */
static void bulk_in_silent(struct pcap *p, size_t want)
{
	record(p, p->id += 0x100, 'S', 0x83, ST_INPROGRESS, (uint32_t)want, NULL, 0);
}

static void reply(uint8_t out[16], uint8_t code, uint8_t seq)
{
	memset(out, 0, 16);
	out[0] = 0x80;
	out[1] = code;
	out[2] = seq;
	out[4] = 0x10;
}

static void check(struct pcap *p, uint8_t level)
{
	uint8_t r[16];

	bulk_out(p, cmd_check, sizeof(cmd_check));
	reply(r, 0x37, 0x01);
	r[12] = level;
	bulk_in(p, 16, r, 16, 0);
	wait_ms(p, 50);
}

/* Each stall is one IN that completes with -EPIPE before the reply. */
static void precapture(struct pcap *p, unsigned stalls)
{
	uint8_t r[16];

	bulk_out(p, cmd_pre, sizeof(cmd_pre));
	for (unsigned i = 0; i < stalls; i++)
		bulk_in(p, 16, NULL, 0, ST_EPIPE);
	if (stalls >= 2)
		return; /* the driver gives up after clearing one stall */
	reply(r, 0x20, 0x03);
	bulk_in(p, 16, r, 16, 0);
}

static void capture_cmd(struct pcap *p)
{
	uint8_t r[16];

	bulk_out(p, cmd_capture, sizeof(cmd_capture));
	reply(r, 0x20, 0x04);
	bulk_in(p, 16, r, 16, 0);
}

enum fault {
	FAULT_NONE,
	FAULT_SHORT,  /* the packet arrives with 300 bytes */
	FAULT_MAGIC,  /* byte 0 is 0x81 */
	FAULT_ROW,    /* byte 16 names the next row pair */
	FAULT_LENGTH, /* the length field says 544 */
	FAULT_SILENT, /* the reader stops answering at this packet */
	FAULT_UNPLUG, /* the reader is unplugged at this packet */
};

static void packet(uint8_t pkt[540], const uint8_t *frame, unsigned i)
{
	memset(pkt, 0, 540);
	pkt[0] = 0x80;
	pkt[1] = 0x21;
	pkt[4] = 0x1c;
	pkt[5] = 0x02;
	pkt[12] = i + 1 < H / 2;
	pkt[16] = (uint8_t)(2 * i + 1);
	memcpy(pkt + 25, frame + (size_t)i * 2 * W, 2 * W);
}

/* The 90 image packets; fault hits packet at. Returns false when the
 * reader is gone or silent afterwards. */
static bool image(struct pcap *p, const uint8_t *frame, enum fault fault, unsigned at)
{
	uint8_t pkt[540];

	for (unsigned i = 0; i < H / 2; i++) {
		size_t len = 540;

		packet(pkt, frame, i);
		if (i == at) {
			switch (fault) {
			case FAULT_SHORT:
				len = 300;
				break;
			case FAULT_MAGIC:
				pkt[0] = 0x81;
				break;
			case FAULT_ROW:
				pkt[16] += 2;
				break;
			case FAULT_LENGTH:
				pkt[4] = 0x20;
				break;
			case FAULT_SILENT:
				bulk_in_silent(p, 540);
				return false;
			case FAULT_UNPLUG:
				bulk_in(p, 540, NULL, 0, ST_ENODEV);
				return false;
			case FAULT_NONE:
				break;
			}
		}
		bulk_in(p, 540, pkt, len, 0);
	}
	return true;
}

/* A finger already down: detected, captured. */
static void capture_now(struct pcap *p, const uint8_t *frame)
{
	check(p, LEVEL_PRESENT);
	precapture(p, 0);
	capture_cmd(p);
	image(p, frame, FAULT_NONE, 0);
}

/* The next capture after one that saw a finger: it lifts, then presses. */
static void lift_then_capture(struct pcap *p, const uint8_t *frame)
{
	check(p, LEVEL_LIFTED);
	capture_now(p, frame);
}

static void scenario_fault(const char *dir, const char *name, enum fault fault, unsigned at)
{
	struct pcap *p = pcap_open(dir, name);

	check(p, LEVEL_PRESENT);
	precapture(p, 0);
	capture_cmd(p);
	image(p, finger_b, fault, at);
	if (fault != FAULT_UNPLUG)
		lift_then_capture(p, finger_a);
	pcap_close(p);
}

static void write_scenarios(const char *dir)
{
	struct pcap *p;

	p = pcap_open(dir, "happy");
	capture_now(p, finger_a);
	pcap_close(p);

	p = pcap_open(dir, "absent-then-present");
	for (int i = 0; i < 5; i++)
		check(p, LEVEL_ABSENT);
	capture_now(p, finger_a);
	pcap_close(p);

	/* One press held across two captures: the second waits for the
	 * lift (4 polls still down, then up), then for the next press. */
	p = pcap_open(dir, "held-two-captures");
	capture_now(p, finger_a);
	for (int i = 0; i < 4; i++)
		check(p, LEVEL_PRESENT);
	check(p, LEVEL_LIFTED);
	check(p, LEVEL_ABSENT);
	check(p, LEVEL_ABSENT);
	capture_now(p, finger_b);
	pcap_close(p);

	/* More absent polls than a 1 s wait at 50 ms can use (21 at most);
	 * the rest precede the finger that the second capture gets. */
	p = pcap_open(dir, "never-present");
	for (int i = 0; i < 40; i++)
		check(p, LEVEL_ABSENT);
	capture_now(p, finger_a);
	pcap_close(p);

	p = pcap_open(dir, "stall-recovered");
	check(p, LEVEL_PRESENT);
	precapture(p, 1);
	capture_cmd(p);
	image(p, finger_a, FAULT_NONE, 0);
	pcap_close(p);

	p = pcap_open(dir, "stall-twice");
	check(p, LEVEL_PRESENT);
	precapture(p, 2);
	lift_then_capture(p, finger_a);
	pcap_close(p);

	scenario_fault(dir, "short-packet", FAULT_SHORT, 40);
	scenario_fault(dir, "wrong-magic", FAULT_MAGIC, 0);
	scenario_fault(dir, "wrong-row", FAULT_ROW, 17);
	scenario_fault(dir, "wrong-length", FAULT_LENGTH, 60);
	scenario_fault(dir, "silent-mid-image", FAULT_SILENT, 45);
	scenario_fault(dir, "unplugged", FAULT_UNPLUG, 10);
}

static void hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02X", b[i]);
}

/* Device, configuration, interface and endpoint descriptors: interface 0
 * (vendor class) with interrupt IN 0x81, bulk OUT 0x02 and bulk IN 0x83. */
/* clang-format off */
static const uint8_t nb_descriptors[] = {
	0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x8d, 0x29, 0x10, 0x10, 0x00,
	0x01, 0x01, 0x02, 0x03, 0x01,
	0x09, 0x02, 0x27, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
	0x09, 0x04, 0x00, 0x00, 0x03, 0xff, 0x00, 0x00, 0x00,
	0x07, 0x05, 0x81, 0x03, 0x40, 0x00, 0x01,
	0x07, 0x05, 0x02, 0x02, 0x00, 0x02, 0x00,
	0x07, 0x05, 0x83, 0x02, 0x00, 0x02, 0x00,
};
/* clang-format on */

/* Something that is not a fingerprint reader: a USB keyboard (046d:c31c). */
/* clang-format off */
static const uint8_t kbd_descriptors[] = {
	0x12, 0x01, 0x10, 0x01, 0x00, 0x00, 0x00, 0x08, 0x6d, 0x04, 0x1c, 0xc3, 0x00,
	0x64, 0x01, 0x02, 0x00, 0x01,
	0x09, 0x02, 0x22, 0x00, 0x01, 0x01, 0x00, 0xa0, 0x46,
	0x09, 0x04, 0x00, 0x00, 0x01, 0x03, 0x01, 0x01, 0x00,
	0x09, 0x21, 0x10, 0x01, 0x00, 0x01, 0x22, 0x3b, 0x00,
	0x07, 0x05, 0x81, 0x03, 0x08, 0x00, 0x0a,
};
/* clang-format on */

static void write_device(const char *dir, const char *file, const char *sysfs, unsigned bus,
			 unsigned addr, const char *vid, const char *pid, const char *vendor,
			 const char *product, const char *serial, const uint8_t *desc,
			 size_t desc_len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fprintf(f, "P: %s\n", sysfs);
	fprintf(f, "N: bus/usb/%03u/%03u=", bus, addr);
	hex(f, desc, desc_len);
	fprintf(f, "\nE: DEVNAME=/dev/bus/usb/%03u/%03u\n", bus, addr);
	fprintf(f, "E: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nE: DRIVER=usb\n");
	fprintf(f, "E: BUSNUM=%03u\nE: DEVNUM=%03u\n", bus, addr);
	fprintf(f, "E: PRODUCT=%s/%s/100\n", vid, pid);
	fprintf(f, "A: busnum=%u\\n\nA: devnum=%u\\n\n", bus, addr);
	fprintf(f, "A: idVendor=%s\\n\nA: idProduct=%s\\n\n", vid, pid);
	fprintf(f, "A: manufacturer=%s\\n\nA: product=%s\\n\n", vendor, product);
	if (serial)
		fprintf(f, "A: serial=%s\\n\n", serial);
	fprintf(f, "A: speed=480\\n\nA: bConfigurationValue=1\\n\nA: bNumInterfaces= 1\\n\n");
	fprintf(f, "H: descriptors=");
	hex(f, desc, desc_len);
	fprintf(f, "\n");
	if (fclose(f) != 0)
		die(path);
}

static void write_raw(const char *dir, const char *name, const uint8_t *pix)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(pix, 1, W * H, f) != W * H || fclose(f) != 0)
		die(path);
}

static void write_sequence(const char *dir, const char *name, const char *spec)
{
	static uint8_t frame[W * H];
	struct pcap *p = pcap_open(dir, name);
	char raw[300];

	for (size_t i = 0; spec[i]; i++) {
		if (spec[i] == 'w') {
			check(p, LEVEL_LIFTED);
			for (int k = 0; k < 200; k++)
				check(p, LEVEL_ABSENT);
			continue;
		}
		if (spec[i] == 'l') {
			synth_blank(frame, sizeof(frame), 0xf0);
			frame[(i * 7919) % sizeof(frame)] = 0x20; /* not quite blank */
		} else {
			synth_finger(frame, W, H, 100 + (uint32_t)i);
		}
		if (i == 0)
			capture_now(p, frame);
		else
			lift_then_capture(p, frame);
		snprintf(raw, sizeof(raw), "%s-%zu.raw", name, i + 1);
		write_raw(dir, raw, frame);
	}
	pcap_close(p);
}

int main(int argc, char **argv)
{
	const char *dir;

	if (argc != 2 && !(argc == 5 && strcmp(argv[2], "--sequence") == 0 &&
			   strspn(argv[4], "glw") == strlen(argv[4]) && argv[4][0])) {
		fprintf(stderr, "usage: %s OUTDIR [--sequence NAME SPEC]\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	cmd_capture[0] = 0x80;
	cmd_capture[1] = 0x12;
	cmd_capture[2] = 0x04;
	cmd_capture[4] = 0x20;
	cmd_capture[8] = 0x02;
	cmd_capture[28] = 0x20;
	synth_finger(finger_a, W, H, 1);
	synth_finger(finger_b, W, H, 2);
	write_raw(dir, "finger-a.raw", finger_a);
	write_raw(dir, "finger-b.raw", finger_b);
	write_device(dir, "nb1010.umockdev", SYSFS, BUS, ADDR, "298d", "1010", "NEXT Biometrics",
		     "NB-1010-U", SERIAL, nb_descriptors, sizeof(nb_descriptors));
	write_device(dir, "keyboard.umockdev", "/devices/pci0000:00/0000:00:14.0/usb3/3-1", BUS, 2,
		     "046d", "c31c", "Logitech", "USB Keyboard", NULL, kbd_descriptors,
		     sizeof(kbd_descriptors));
	if (argc == 5)
		write_sequence(dir, argv[3], argv[4]);
	else
		write_scenarios(dir);
	return 0;
}
