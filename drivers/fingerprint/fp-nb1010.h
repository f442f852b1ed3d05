/*
 * NEXT Biometrics NB-1010-U (USB 298d:1010): the driver's ops and its
 * frame-assembly step, which the benchmark times without a device.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fp.h"

#define FP_NB1010_WIDTH 256
#define FP_NB1010_HEIGHT 180
#define FP_NB1010_PACKETS 90
#define FP_NB1010_PACKET_LEN 540

extern const struct fp_driver_ops fp_nb1010_ops;

/*
 * Validates image packet index (0-based) of a frame, len bytes as the
 * transfer returned them, and copies its two rows into frame (256 x 180).
 * -EPROTO with reasons fp.packet.short, .magic, .code, .length, .last and
 * .row, whose message names the packet and what was wrong.
 */
int fp_nb1010_parse_packet(const uint8_t *pkt, size_t len, unsigned index, uint8_t *frame,
			   struct retas_error *err);
