/*
 * NEXT Biometrics NB-1010-U (USB 298d:1010), a press sensor that returns
 * one 256 x 180 8-bit frame. The protocol, as shared/DESIGN.md section 3.3
 * records it from the reader's USB traffic:
 *
 *   interface 0; bulk OUT 0x02, bulk IN 0x83 (interrupt IN 0x81 unused);
 *   no control transfers.
 *   command:  80 <cmd> <seq> 00 <total length u32 LE> ...
 *   reply:    16 bytes, 80 <code> <seq echoed> 00 10 00 00 00 ...
 *   check finger  80 38 01 00 08 00 00 00 -> code 0x37, byte 12 = finger
 *                 level 0-255, a finger is present above 0x30; poll ~50 ms
 *   pre-capture   80 0d 03 00 0c 00 00 00 00 04 00 00 -> code 0x20
 *   capture       32 bytes 80 12 04 00 20 00 00 00 02 0.., byte 28 = 0x20
 *                 -> code 0x20
 *   image         90 bulk IN reads of 540 bytes: a 25-byte header
 *                 80 21 00 00 1c 02 00 00 ... (byte 12 = 1 on all but the
 *                 last packet, byte 16 = the odd row index 1..179), 512
 *                 pixels (two rows of 256), 3 zero bytes. Rows top to
 *                 bottom, ridges dark, no flip, no invert.
 *
 * Every transfer asks for exactly what the reader answers with (16-byte
 * replies, 540-byte packets), so a reader that sends more is an overflow
 * rather than a silently merged packet. A corrupt image packet fails the
 * capture, but the remaining packets of the frame are still read so the
 * next command does not receive stale image data (the first error wins);
 * a transfer that fails (timeout, unplug, second stall) ends it at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp-driver.h"
#include "fp-nb1010.h"
#include "retas-i18n.h"
#include "retas-util.h"

#define NB_INTERFACE 0
#define NB_EP_OUT 0x02
#define NB_EP_IN 0x83
#define NB_REPLY_LEN 16
#define NB_PACKET_HEADER 25
#define NB_ROW_BYTES (2 * FP_NB1010_WIDTH)
#define NB_FINGER_THRESHOLD 0x30
#define NB_POLL_MS 50
#define NB_TRANSFER_TIMEOUT_MS 1000

#define NB_MAGIC 0x80
#define NB_REPLY_CHECK 0x37
#define NB_REPLY_OK 0x20
#define NB_IMAGE_CODE 0x21

/*
 * The resolution of this sensor is not in any document we can cite. Rather
 * than claim a figure (500 ppi is the usual guess), the driver reports 0,
 * which the ISO record carries as "not known"; a value measured with a
 * calibration target can replace it here, with its source.
 */
#define NB_PPI 0
#define NB_PPI_SOURCE "not documented by the manufacturer; not measured"

/* ISO/IEC 19794-4:2011 capture device technology 15, semiconductor thermal:
 * NEXT Biometrics describes its sensors as "Active Thermal". */
#define NB_ISO_TECHNOLOGY 15

static const struct fp_usb_id nb1010_ids[] = {
    {0x298d, 0x1010},
    {0, 0},
};

struct nb1010 {
	struct fp_device base;
	libusb_device_handle *handle;
	unsigned timeout_ms;
	uint16_t vendor_id;
	uint16_t product_id;
	uint8_t bus;
	uint8_t address;
	char serial[64];
};

static struct nb1010 *to_nb(struct fp_device *dev)
{
	return fp_container_of(dev, struct nb1010, base);
}

static const uint8_t cmd_check[8] = {0x80, 0x38, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00};
static const uint8_t cmd_precapture[12] = {0x80, 0x0d, 0x03, 0x00, 0x0c, 0x00,
					   0x00, 0x00, 0x00, 0x04, 0x00, 0x00};
static const uint8_t cmd_capture[32] = {
    [0] = 0x80, [1] = 0x12, [2] = 0x04, [4] = 0x20, [8] = 0x02, [28] = 0x20};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Sends cmd and reads its 16-byte reply, which must carry code and echo
 * the command's sequence number. */
static int nb_command(struct nb1010 *nb, const uint8_t *cmd, size_t len, uint8_t code,
		      const char *step, int64_t deadline_ms, uint8_t reply[NB_REPLY_LEN],
		      struct retas_error *err)
{
	uint8_t out[32];
	size_t got = 0;
	int r;

	memcpy(out, cmd, len);
	r = fp_usb_bulk(&nb->base, nb->handle, NB_EP_OUT, out, len, NULL, nb->timeout_ms,
			deadline_ms, step, err);
	if (r < 0)
		goto out;
	r = fp_usb_bulk(&nb->base, nb->handle, NB_EP_IN, reply, NB_REPLY_LEN, &got, nb->timeout_ms,
			deadline_ms, step, err);
	if (r < 0)
		goto out;
	if (got != NB_REPLY_LEN) {
		r = retas_error_set(err, -EPROTO, "fp.reply.short",
				    N_("The fingerprint reader's reply was %zu bytes instead of 16 "
				       "(%s)."),
				    got, step);
		goto out;
	}
	if (reply[0] != NB_MAGIC || le32(reply + 4) != NB_REPLY_LEN) {
		r = retas_error_set(err, -EPROTO, "fp.reply.header",
				    N_("The fingerprint reader's reply has a corrupt header (%s)."),
				    step);
		goto out;
	}
	if (reply[1] != code || reply[2] != cmd[2]) {
		r = retas_error_set(err, -EPROTO, "fp.reply.code",
				    N_("The fingerprint reader answered 0x%02x/%u, expected "
				       "0x%02x/%u (%s)."),
				    reply[1], reply[2], code, cmd[2], step);
		goto out;
	}
	r = 0;
out:
	return r;
}

static int nb_read_level(struct fp_device *dev, int64_t deadline_ms, unsigned *level,
			 struct retas_error *err)
{
	struct nb1010 *nb = to_nb(dev);
	uint8_t reply[NB_REPLY_LEN];
	int r;

	r = nb_command(nb, cmd_check, sizeof(cmd_check), NB_REPLY_CHECK, _("checking for a finger"),
		       deadline_ms, reply, err);
	if (r < 0)
		return r;
	*level = reply[12];
	return 0;
}

int fp_nb1010_parse_packet(const uint8_t *pkt, size_t len, unsigned index, uint8_t *frame,
			   struct retas_error *err)
{
	unsigned last = index + 1 == FP_NB1010_PACKETS;
	unsigned n = index + 1;

	if (len != FP_NB1010_PACKET_LEN)
		return retas_error_set(err, -EPROTO, "fp.packet.short",
				       N_("Image packet %u of 90 from the fingerprint reader was "
					  "%zu bytes instead of 540."),
				       n, len);
	if (pkt[0] != NB_MAGIC)
		return retas_error_set(
		    err, -EPROTO, "fp.packet.magic",
		    N_("Image packet %u of 90 from the fingerprint reader starts "
		       "with 0x%02x instead of 0x80."),
		    n, pkt[0]);
	if (pkt[1] != NB_IMAGE_CODE)
		return retas_error_set(err, -EPROTO, "fp.packet.code",
				       N_("Image packet %u of 90 from the fingerprint reader has "
					  "code 0x%02x instead of 0x21."),
				       n, pkt[1]);
	if (le32(pkt + 4) != FP_NB1010_PACKET_LEN)
		return retas_error_set(err, -EPROTO, "fp.packet.length",
				       N_("Image packet %u of 90 from the fingerprint reader says "
					  "it is %u bytes long instead of 540."),
				       n, (unsigned)le32(pkt + 4));
	if (pkt[12] != (last ? 0 : 1))
		return retas_error_set(err, -EPROTO, "fp.packet.last",
				       N_("Image packet %u of 90 from the fingerprint reader has "
					  "the wrong last-packet flag %u."),
				       n, pkt[12]);
	if (pkt[16] != 2 * index + 1)
		return retas_error_set(err, -EPROTO, "fp.packet.row",
				       N_("Image packet %u of 90 from the fingerprint reader "
					  "carries row %u instead of %u."),
				       n, pkt[16], 2 * index + 1);
	memcpy(frame + (size_t)index * NB_ROW_BYTES, pkt + NB_PACKET_HEADER, NB_ROW_BYTES);
	return 0;
}

static int nb_capture(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
		      void *userdata, struct fp_image **out, struct retas_error *err)
{
	_cleanup_(freep) uint8_t *pkt = NULL;
	struct nb1010 *nb = to_nb(dev);
	struct fp_image *img = NULL;
	struct retas_error first = {0};
	uint8_t reply[NB_REPLY_LEN];
	int r, bad = 0;

	img = fp_image_new(FP_NB1010_WIDTH, FP_NB1010_HEIGHT);
	pkt = malloc(FP_NB1010_PACKET_LEN);
	if (!img || !pkt) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	r = fp_report(progress, userdata, &(struct fp_progress){.stage = FP_STAGE_FINGER_ON}, err);
	if (r < 0)
		goto out;
	r = nb_command(nb, cmd_precapture, sizeof(cmd_precapture), NB_REPLY_OK,
		       _("preparing the capture"), deadline_ms, reply, err);
	if (r < 0)
		goto out;
	r = nb_command(nb, cmd_capture, sizeof(cmd_capture), NB_REPLY_OK, _("starting the capture"),
		       deadline_ms, reply, err);
	if (r < 0)
		goto out;
	for (unsigned i = 0; i < FP_NB1010_PACKETS; i++) {
		struct fp_progress p = {
		    .stage = FP_STAGE_READING,
		    .done = i + 1,
		    .total = FP_NB1010_PACKETS,
		};
		char step[64];
		size_t got = 0;

		snprintf(step, sizeof(step), _("image packet %u of %u"), i + 1, FP_NB1010_PACKETS);
		r = fp_usb_bulk(dev, nb->handle, NB_EP_IN, pkt, FP_NB1010_PACKET_LEN, &got,
				nb->timeout_ms, deadline_ms, step, err);
		if (r < 0)
			goto out;
		if (bad < 0)
			continue; /* draining the rest of the frame */
		bad = fp_nb1010_parse_packet(pkt, got, i, img->pixels, &first);
		if (bad < 0)
			continue;
		r = fp_report(progress, userdata, &p, err);
		if (r < 0)
			goto out;
	}
	if (bad < 0) {
		if (err)
			*err = first;
		r = bad;
		goto out;
	}
	r = fp_report(progress, userdata, &(struct fp_progress){.stage = FP_STAGE_DONE}, err);
	if (r < 0)
		goto out;
	*out = steal_ptr(img);
	r = 0;
out:
	fp_image_free(img);
	return r;
}

static int nb_wait_finger(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			  void *userdata, struct retas_error *err)
{
	return fp_poll_level(dev, true, NB_FINGER_THRESHOLD, NB_POLL_MS, deadline_ms, nb_read_level,
			     progress, userdata, err);
}

static int nb_wait_lift(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			void *userdata, struct retas_error *err)
{
	return fp_poll_level(dev, false, NB_FINGER_THRESHOLD, NB_POLL_MS, deadline_ms,
			     nb_read_level, progress, userdata, err);
}

static int nb_open(libusb_device *udev, const struct fp_open_options *opts, struct fp_device **out,
		   struct retas_error *err)
{
	struct libusb_device_descriptor desc;
	libusb_device_handle *handle = NULL;
	struct nb1010 *nb = NULL;
	int r;

	nb = calloc(1, sizeof(*nb));
	if (!nb) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	r = libusb_get_device_descriptor(udev, &desc);
	if (r < 0) {
		r = fp_usb_error(r, _("reading the device descriptor"), err);
		goto out;
	}
	r = libusb_open(udev, &handle);
	if (r < 0) {
		r = fp_usb_error(r, _("opening the reader"), err);
		goto out;
	}
	/* No kernel driver binds this vendor-specific interface, so there is
	 * nothing to detach: a claim that fails means another program holds
	 * the reader, which is "busy", not ours to take. */
	r = libusb_claim_interface(handle, NB_INTERFACE);
	if (r < 0) {
		r = fp_usb_error(r, _("claiming the reader"), err);
		goto out;
	}
	nb->base.ops = &fp_nb1010_ops;
	nb->handle = steal_ptr(handle);
	nb->timeout_ms =
	    opts && opts->transfer_timeout_ms ? opts->transfer_timeout_ms : NB_TRANSFER_TIMEOUT_MS;
	nb->vendor_id = desc.idVendor;
	nb->product_id = desc.idProduct;
	nb->bus = libusb_get_bus_number(udev);
	nb->address = libusb_get_device_address(udev);
	fp_usb_read_serial(udev, nb->serial, sizeof(nb->serial));
	*out = &steal_ptr(nb)->base;
	r = 0;
out:
	if (handle)
		libusb_close(handle);
	free(nb);
	return r;
}

static void nb_close(struct fp_device *dev)
{
	struct nb1010 *nb = to_nb(dev);

	/* The release fails only when the reader is gone; closing the handle
	 * releases it anyway. */
	libusb_release_interface(nb->handle, NB_INTERFACE);
	libusb_close(nb->handle);
	free(nb);
}

static void nb_describe(struct fp_device *dev, struct fp_description *out)
{
	struct nb1010 *nb = to_nb(dev);

	*out = (struct fp_description){
	    .driver = fp_nb1010_ops.name,
	    .model = fp_nb1010_ops.model,
	    .vendor_id = nb->vendor_id,
	    .product_id = nb->product_id,
	    .bus = nb->bus,
	    .address = nb->address,
	    .width = FP_NB1010_WIDTH,
	    .height = FP_NB1010_HEIGHT,
	    .ppi = NB_PPI,
	    .ppi_source = NB_PPI_SOURCE,
	    .iso_technology = NB_ISO_TECHNOLOGY,
	};
	snprintf(out->serial, sizeof(out->serial), "%s", nb->serial);
}

const struct fp_driver_ops fp_nb1010_ops = {
    .name = "nb1010",
    .model = "NEXT Biometrics NB-1010-U",
    .ids = nb1010_ids,
    .open = nb_open,
    .close = nb_close,
    .describe = nb_describe,
    .wait_finger = nb_wait_finger,
    .capture = nb_capture,
    .wait_lift = nb_wait_lift,
};
