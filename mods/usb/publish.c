/*
 * publish.c - one `usb` resource per interface (alternate setting 0) of a
 * configured device, `usb:1-5.2-0` with the properties of names.c, each
 * taking one client: the class driver a bind rule loads for it.
 */
#include "bus.h"

static int
publish_one(struct udev *d, struct uif *f)
{
	char props[BUS_PROPS];
	size_t n;

	n = if_props_fmt(props, sizeof(props), &d->dd, &f->d, d->speed,
	    d->place, d->serial);
	if (n >= sizeof(props)) {
		bus_log(PB_LOG_WARN, "usb:%s: properties too long: the serial "
		    "number left out", f->name);
		if_props_fmt(props, sizeof(props), &d->dd, &f->d, d->speed,
		    d->place, NULL);
	}
	f->res = bus_hub->publish(bus_self, USB_IFACE, f->name, props,
	    &bus_usb_ops, f);
	if (!f->res)
		return PB_ENOMEM;
	bus_hub->res_limit(bus_self, f->res, 1);
	return PB_OK;
}

/* Room for the configuration's interfaces: more only while none is
 * published (a fresh record, or one if_withdraw_all emptied). */
static int
if_room(struct udev *d)
{
	struct uif *ifs;

	if (d->cfg.nif <= d->nifs)
		return PB_OK;
	if (!(ifs = bus_hub->alloc(bus_self, d->cfg.nif * sizeof(*ifs))))
		return PB_ENOMEM;
	memset(ifs, 0, d->cfg.nif * sizeof(*ifs));
	if (d->ifs)
		bus_hub->free(bus_self, d->ifs);
	d->ifs = ifs;
	d->nifs = d->cfg.nif;
	return PB_OK;
}

int
if_publish_all(struct udev *d)
{
	int err = if_room(d);

	if (err != PB_OK)
		return err;
	for (unsigned i = 0; i < d->cfg.nif; i++) {
		struct uif *f = &d->ifs[i];

		f->dev = d;
		f->d = d->cfg.ifs[i];
		rt_snprintf(f->name, sizeof(f->name), "%s-%u", d->name,
		    f->d.num);
		if (publish_one(d, f) != PB_OK)
			err = PB_ENOMEM;
	}
	return err;
}

/* The class drivers hear PB_EV_DISCONNECTED; a call they make meanwhile
 * finds the interface unpublished already. */
void
if_withdraw_all(struct udev *d)
{
	for (unsigned i = 0; i < d->nifs; i++) {
		struct pb_resource *r = d->ifs[i].res;

		if (!r)
			continue;
		d->ifs[i].res = NULL;
		bus_hub->withdraw(bus_self, r);
	}
}
