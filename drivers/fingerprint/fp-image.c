/* Grey images (struct fp_image): the one allocation every fingerprint part
 * shares, kept apart from the USB core so record code needs no libusb. */
#include <stdlib.h>
#include <string.h>

#include "fp.h"

struct fp_image *fp_image_new(unsigned width, unsigned height)
{
	struct fp_image *img;

	if (width == 0 || height == 0 || width > FP_IMAGE_MAX_SIDE || height > FP_IMAGE_MAX_SIDE)
		return NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		return NULL;
	img->pixels = calloc((size_t)width * height, 1);
	if (!img->pixels) {
		free(img);
		return NULL;
	}
	img->width = width;
	img->height = height;
	return img;
}

struct fp_image *fp_image_dup(const struct fp_image *img)
{
	struct fp_image *copy = fp_image_new(img->width, img->height);

	if (copy)
		memcpy(copy->pixels, img->pixels, (size_t)img->width * img->height);
	return copy;
}

void fp_image_free(struct fp_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	free(img);
}
