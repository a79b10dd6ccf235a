/*
 * images.c - module files handed to the hub at run time.
 *
 * After the takeover the hub cannot read a path itself: files live on
 * file systems that modules serve, asynchronously.  So the shell reads a
 * module file through `fs` and hands the bytes over (hub->mod_image),
 * and `load PATH` and `update MODULE PATH` find them here by that path.
 * The hub keeps its own copy, in pages of its own, because a module
 * record runs (and restarts) from its file for as long as it exists.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

static struct image {
	char path[64];
	void *data;		/* hub pages, NULL: a free slot */
	size_t len;
	uint64_t added;		/* when, in images added: the oldest goes */
} images[IMAGE_SLOTS];
static uint64_t nadded;

/* Does a module record still run, or may run again, from this copy?  A
 * replaced instance never loads again. */
static int
in_use(const struct image *im)
{
	for (unsigned i = 0; i < nmodules; i++)
		if (modules[i].file == im->data &&
		    modules[i].state != MOD_REPLACED)
			return 1;
	return 0;
}

static void
drop(struct image *im)
{
	if (im->data)
		mem_free(NULL, im->data);
	*im = (struct image){ 0 };
}

/* The slot for path: its old copy if nobody uses it, else an empty
 * slot, else the oldest copy nobody uses any more. */
static struct image *
slot_for(const char *path)
{
	struct image *empty = NULL, *unused = NULL;

	for (unsigned i = 0; i < IMAGE_SLOTS; i++) {
		struct image *im = &images[i];

		if (!im->data) {
			if (!empty)
				empty = im;
		} else if (!in_use(im)) {
			if (strcmp(im->path, path) == 0)
				return im;
			if (!unused || im->added < unused->added)
				unused = im;
		}
	}
	return empty ? empty : unused;
}

int
image_add(struct pb_module *self, const char *path, const void *data,
    size_t len)
{
	struct image *im;
	void *copy;

	if (!path || !data || !len || len > IMAGE_MAX ||
	    strnlen(path, sizeof(im->path)) == sizeof(im->path))
		return PB_EINVAL;
	if (!(im = slot_for(path))) {
		log_event(LOG_ERROR, "%s: no room for %s: %u module files in "
		    "use", self ? self->name : "hub", path, IMAGE_SLOTS);
		return PB_EBUSY;
	}
	if (!(copy = mem_alloc(NULL, (len + 4095) / 4096, 0, MEM_KIND_HEAP)))
		return PB_ENOMEM;
	drop(im);
	memcpy(copy, data, len);
	rt_strlcpy(im->path, path, sizeof(im->path));
	im->data = copy;
	im->len = len;
	im->added = ++nadded;
	return PB_OK;
}

int
image_find(const char *path, const void **data, size_t *len)
{
	for (unsigned i = 0; i < IMAGE_SLOTS; i++)
		if (images[i].data && strcmp(images[i].path, path) == 0) {
			*data = images[i].data;
			*len = images[i].len;
			return PB_OK;
		}
	return PB_ENOENT;
}

/* Forget every copy without freeing it: the memory they were in is
 * being reset (host tests). */
void
image_forget_all(void)
{
	memset(images, 0, sizeof(images));
}
