/*
 * test_park.c - parking firmware disks over the takeover (hub/park.c),
 * with fake providers.
 *
 * The world: `efib`, a firmware-backed module, serves block:efi0 and
 * block:efi1 (paths pci:00:1f.2/sata:0 and :1) and block:efi2 (no path);
 * `ahci`, a native module, runs and publishes its disks when the test
 * says, as a driver that probes its ports after the takeover would;
 * `cli` takes every block (the shell), `needy` needs one to run.  The
 * requests are the test's struct block_req objects, submitted by cli
 * through its connections (so through the hub's shadow); where each one
 * is (queued at efib, handed by its export, taken by ahci, cancelled by
 * efib's stop, completed) is tracked, so "exactly once" is counted, not
 * assumed.  Each test parks efib as boot.c's takeover does: park_module
 * before the exit; park_start_clock and efib's unload after it.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/block.h"

#define NREQ 8
#define PATH0 "pci:00:1f.2/sata:0"
#define PATH1 "pci:00:1f.2/sata:1"

enum { NOWHERE = -1, HANDED = 10, TAKEN = 20, CANCELLED = 30 };

static struct fm *efib, *ahci, *cli, *needy, *hci;
static struct pb_module_ops efib_ops, ahci_ops;
static struct block_req req[NREQ];
static int where[NREQ];			/* a disk (0..2) or the above */
static unsigned seq[NREQ], nseq;
static unsigned takes[NREQ], cancels[NREQ], completions[NREQ];
static int order[NREQ], norder;		/* what ahci took, in order */
static int32_t statuses[NREQ];
static unsigned exports;
static int efib_export_fails;
static int ahci_refuses;
static int disk_ctx[3] = { 0, 1, 2 };
static int ahci_res_ctx;

static int
idx(const struct block_req *r)
{
	return r >= req && r < req + NREQ ? (int)(r - req) : -1;
}

/* --- efib: a queue per disk, handed over by export ------------------------- */

static int
efib_info(void *ctx, struct block_info *bi)
{
	bi->block_size = 512;
	bi->block_count = 2048 + *(int *)ctx;
	return PB_OK;
}

static int
efib_submit(void *ctx, struct block_req *r)
{
	int i = idx(r);

	if (i < 0 || where[i] != NOWHERE)
		return PB_ESTATE;	/* the test's alarm: twice */
	where[i] = *(int *)ctx;
	seq[i] = ++nseq;
	return PB_OK;
}

static const struct block_ops efib_block_ops = { efib_info, efib_submit };

/* The queued requests, oldest first, in a struct block_state (one disk
 * entry: the hub reads only the requests). */
static int
efib_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct block_state st = { 1, 0 };
	struct block_state_disk sd = { .first = 0 };
	uint8_t tmp[512];
	size_t at = sizeof(st) + sizeof(sd);

	*version = BLOCK_STATE_VERSION;
	if (buf && efib_export_fails)
		return PB_EIO;
	for (unsigned s = 1; s <= nseq; s++)
		for (int i = 0; i < NREQ; i++)
			if (seq[i] == s && where[i] >= 0 && where[i] <= 2) {
				struct block_req *r = &req[i];

				memcpy(tmp + at + st.nreq++ * sizeof(r), &r,
				    sizeof(r));
				if (buf)
					where[i] = HANDED;
			}
	sd.nreq = st.nreq;
	memcpy(tmp, &st, sizeof(st));
	memcpy(tmp + sizeof(st), &sd, sizeof(sd));
	*len = at + st.nreq * sizeof(void *);
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	memcpy(buf, tmp, *len);
	exports++;
	return PB_OK;
}

static void
efib_stop(struct pb_module *m)
{
	for (int i = 0; i < NREQ; i++)
		if (where[i] >= 0 && where[i] <= 2) {
			where[i] = CANCELLED;
			cancels[i]++;
			req[i].status = PB_ECANCELED;
			work_post(&req[i].done);
		}
	fm_ops.stop(m);
}

/* ahci's disks: submit takes any request once. */
static int
ahci_submit(void *ctx, struct block_req *r)
{
	int i = idx(r);

	if (ahci_refuses)
		return PB_EINVAL;
	if (i < 0 || where[i] == TAKEN || where[i] == CANCELLED)
		return PB_ESTATE;	/* the test's alarm */
	where[i] = TAKEN;
	takes[i]++;
	order[norder++] = i;
	return PB_OK;
}

static int
ahci_info(void *ctx, struct block_info *bi)
{
	return PB_ENOTSUP;
}

static const struct block_ops ahci_block_ops = { ahci_info, ahci_submit };

/* A request's completion, the client's work. */
static void
req_done(void *arg)
{
	int i = idx(arg);

	completions[i]++;
	statuses[i] = req[i].status;
}

/* --- the world -------------------------------------------------------------- */

static int
world(void)
{
	fm_setup();
	park_expire();		/* anything an earlier test left */
	memset(req, 0, sizeof(req));
	memset(takes, 0, sizeof(takes));
	memset(cancels, 0, sizeof(cancels));
	memset(completions, 0, sizeof(completions));
	memset(statuses, 0, sizeof(statuses));
	memset(seq, 0, sizeof(seq));
	for (int i = 0; i < NREQ; i++)
		where[i] = NOWHERE;
	nseq = exports = 0;
	efib_export_fails = 0;
	norder = 0;
	ahci_refuses = 0;
	efib_ops = fm_ops;
	efib_ops.export_state = efib_export;
	efib_ops.stop = efib_stop;
	ahci_ops = fm_ops;

	efib = fm_add("efib", 0);
	efib->m->ops = &efib_ops;
	efib->m->desc.flags |= PB_MOD_FIRMWARE;
	fm_provide(efib, BLOCK_IFACE, 1, 0);
	fm_publish(efib, BLOCK_IFACE, "efi0", "path=" PATH0 " size=1048576");
	fm_publish(efib, BLOCK_IFACE, "efi1", "path=" PATH1 " size=1048576");
	fm_publish(efib, BLOCK_IFACE, "efi2", "size=1048576");
	hci = fm_add("hci", 0);
	fm_provide(hci, "tcon", 1, 0);
	fm_publish(hci, "tcon", "h0", "");
	ahci = fm_add("ahci", 0);
	ahci->m->ops = &ahci_ops;
	fm_provide(ahci, BLOCK_IFACE, 1, 0);
	fm_require(ahci, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	cli = fm_add("cli", 0);
	fm_require(cli, BLOCK_IFACE, 1, 0, PB_CARD_ALL, PB_LATER);
	needy = fm_add("needy", 0);
	fm_require(needy, BLOCK_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(efib) != PB_OK)
		return 0;
	for (int d = 0; d < 3; d++) {
		efib->res[d]->ops = &efib_block_ops;
		efib->res[d]->ctx = &disk_ctx[d];
	}
	if (fm_start(hci) != PB_OK || fm_start(ahci) != PB_OK ||
	    fm_start(cli) != PB_OK ||
	    fm_start(needy) != PB_OK)
		return 0;
	for (int i = 0; i < NREQ; i++) {
		req[i].size = sizeof(req[i]);
		work_init(cli->m, &req[i].done, req_done, &req[i]);
	}
	return fm_nconns(cli) == 3 && fm_conn_res(needy, 0, 0) == efib->res[0];
}

/* cli's connection named block:efiD (held ones keep the name). */
static struct conn *
cli_conn(int disk)
{
	char name[16];

	snprintf(name, sizeof(name), "block:efi%d", disk);
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == cli->m &&
		    strcmp(conns[i].pub.res, name) == 0)
			return &conns[i];
	return NULL;
}

/* cli submits request i on disk d, as a client does. */
static int
submit(int i, int disk)
{
	struct conn *c = cli_conn(disk);

	if (!c)
		return PB_ENOENT;
	return ((const struct block_ops *)c->pub.ops)->submit(c->pub.ctx,
	    &req[i]);
}

/* ahci finds a disk: it publishes it, the hub offers it (work). */
static struct pb_resource *
ahci_finds(const char *name, const char *path)
{
	char props[128];
	struct pb_resource *r;

	snprintf(props, sizeof(props), "path=%s size=1048576", path);
	r = hub_services.publish(ahci->m, BLOCK_IFACE, name, props,
	    &ahci_block_ops, &ahci_res_ctx);
	fm_run_work();
	return r;
}

static unsigned
cli_conns_to(const struct pb_resource *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++)
		n += conns[i].used && conns[i].client == cli->m &&
		    conns[i].res == r;
	return n;
}

static int
named_exists(const char *name)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (resources[i].used && strcmp(resources[i].name, name) == 0)
			return 1;
	return 0;
}

/* The takeover's part after the exit: the clock, then every firmware
 * module goes (boot.c). */
static void
exit_firmware(void)
{
	park_start_clock();
	mod_unload(efib->m);
	fm_run_work();
}

static unsigned
park(void)
{
	unsigned n = park_module(efib->m);

	exit_firmware();
	return n;
}

/* --- the tests ----------------------------------------------------------------- */

TEST(park_holds_the_clients_connections)
{
	REQUIRE(world());
	CHECK_EQ_INT(park_module(efib->m), 2);
	CHECK_EQ_INT(efib->m->state, MOD_QUIESCED);
	CHECK(efib->quiesced && !efib->released);
	/* Hidden from new clients before the exit. */
	CHECK(res_find("block:efi0") == NULL);
	CHECK(res_best(BLOCK_IFACE, 1, 0, NULL) == efib->res[2]);
	exit_firmware();
	CHECK_EQ_INT(efib->m->state, MOD_UNLOADED);
	/* The connections are held under their old names; efi2, which has
	 * no identity, went with its module, its client told. */
	REQUIRE(cli_conn(0) != NULL && cli_conn(1) != NULL);
	CHECK(cli_conn(0)->held && cli_conn(0)->res == NULL);
	CHECK(fm_conn(needy, 0, 0) != NULL && fm_conn(needy, 0, 0)->held);
	CHECK(cli_conn(2) == NULL);
	CHECK(!named_exists("block:efi2"));
	CHECK_EQ_INT(cli->ndisconnected, 1);
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") parked, 2 "
	    "clients kept until a native driver takes it"));
	CHECK(fm_log_has("takeover: block:efi1 (path=" PATH1 ") parked, 1 "
	    "client kept"));
	park_expire();
	fm_teardown();
}

TEST(park_claimed_by_matching_path_requests_handed_once)
{
	struct pb_resource *sata0, *sata1;

	REQUIRE(world());
	REQUIRE(submit(0, 0) == PB_OK && submit(1, 0) == PB_OK &&
	    submit(2, 1) == PB_OK);
	REQUIRE(park_module(efib->m) == 2);
	REQUIRE(submit(3, 0) == PB_OK);	/* quiesced: queued */
	exit_firmware();
	CHECK_EQ_INT(exports, 1);
	REQUIRE(submit(4, 0) == PB_OK);	/* held: in the shadow */
	CHECK_EQ_INT(where[4], NOWHERE);
	/* Meanwhile the disk answers info as it did. */
	{
		struct conn *c = cli_conn(1);
		struct block_info bi = { .size = sizeof(bi) };

		CHECK_EQ_INT(((const struct block_ops *)c->pub.ops)->info(
		    c->pub.ctx, &bi), PB_OK);
		CHECK(bi.block_count == 2049 && bi.block_size == 512);
	}
	fm_advance(143000000ull);
	sata0 = ahci_finds("sata0", PATH0);
	REQUIRE(sata0 != NULL);
	/* Disk 0's four went to ahci, oldest first; disk 1's waits. */
	CHECK(norder == 4 && order[0] == 0 && order[1] == 1 &&
	    order[2] == 3 && order[3] == 4);
	CHECK_EQ_INT(takes[2], 0);
	/* The clients are on sata0 now, told once, with no second
	 * connection from the offer that followed. */
	CHECK_EQ_INT(cli_conns_to(sata0), 1);
	CHECK(fm_conn_res(needy, 0, 0) == sata0);
	CHECK_EQ_INT(cli->nrebound, 1);
	CHECK_EQ_INT(needy->nrebound, 1);
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") -> "
	    "block:sata0 (ahci), 4 requests handed over, 2 clients, parked "
	    "143 ms"));
	sata1 = ahci_finds("sata1", PATH1);
	CHECK_EQ_INT(takes[2], 1);
	CHECK_EQ_INT(cli_conns_to(sata1), 1);
	CHECK(fm_log_has("-> block:sata1 (ahci), 1 request handed over, 1 "
	    "client"));
	/* Each taken once; completing them is ahci's now. */
	for (int i = 0; i < 5; i++)
		CHECK_MSG(takes[i] == 1 && cancels[i] == 0 &&
		    completions[i] == 0, "request %d taken %u times, cancelled "
		    "%u, completed %u", i, takes[i], cancels[i], completions[i]);
	/* The deadline passes without a word. */
	fm_advance(park_wait_ns);
	CHECK(!fm_log_has("gone"));
	CHECK_EQ_INT(cli->ndisconnected, 1);	/* efi2's, at the exit */
	fm_teardown();
}

TEST(park_requests_of_other_disks_cancelled_once)
{
	REQUIRE(world());
	REQUIRE(submit(0, 2) == PB_OK && submit(1, 0) == PB_OK);
	REQUIRE(park() == 2);
	/* efi2's request was handed over and completes once, cancelled;
	 * efi0's waits for its driver. */
	CHECK(completions[0] == 1 && statuses[0] == PB_ECANCELED);
	CHECK_EQ_INT(cancels[0], 0);
	CHECK(fm_log_has("takeover: efib's 1 requests of disks not parked "
	    "cancelled"));
	CHECK_EQ_INT(completions[1], 0);
	CHECK(ahci_finds("sata0", PATH0) != NULL);
	CHECK_EQ_INT(takes[1], 1);
	CHECK_EQ_INT(takes[0], 0);
	fm_teardown();
}

TEST(park_non_matching_path_is_not_claimed)
{
	struct pb_resource *other;
	struct fm *fwx;

	REQUIRE(world());
	REQUIRE(submit(0, 0) == PB_OK);
	REQUIRE(park() == 2);
	other = ahci_finds("sata5", "pci:00:1f.2/sata:5");
	REQUIRE(other != NULL);
	/* A disk of another path is a disk of its own: cli takes it as
	 * every new disk, needy stays held. */
	CHECK_EQ_INT(cli_conns_to(other), 1);
	CHECK(fm_conn(needy, 0, 0)->held);
	/* The same path on another interface, or from a firmware-backed
	 * module, does not claim it either. */
	hub_services.publish(ahci->m, "tcon", "x", "path=" PATH0,
	    &fm_tcon_ops[0], &ahci_res_ctx);
	fwx = fm_add("fwx", 0);
	fwx->m->desc.flags |= PB_MOD_FIRMWARE;
	fm_provide(fwx, BLOCK_IFACE, 1, 0);
	fm_publish(fwx, BLOCK_IFACE, "fw0", "path=" PATH0);
	REQUIRE(fm_start(fwx) == PB_OK);
	fm_run_work();
	CHECK(fm_conn(needy, 0, 0)->held);
	CHECK_EQ_INT(takes[0], 0);
	CHECK(!fm_log_has(PATH0 ") -> "));
	park_expire();
	fm_teardown();
}

TEST(park_deadline_tells_clients_and_fails_requests_once)
{
	REQUIRE(world());
	REQUIRE(submit(0, 0) == PB_OK && submit(1, 0) == PB_OK &&
	    submit(2, 1) == PB_OK);
	REQUIRE(park() == 2);
	REQUIRE(submit(3, 0) == PB_OK);	/* held */
	ahci_finds("sata5", "pci:00:1f.2/sata:5");	/* not theirs */
	fm_advance(park_wait_ns - 1);
	CHECK(!fm_log_has("gone"));
	fm_advance(1);
	fm_run_work();
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") gone: no native "
	    "driver took it in 10000 ms; 2 clients told"));
	CHECK(fm_log_has("takeover: block:efi1 (path=" PATH1 ") gone: no native "
	    "driver took it in 10000 ms; 1 client told"));
	CHECK_EQ_INT(cli->ndisconnected, 1 + 2);
	/* needy needed it: stopped, never rebound to another disk. */
	CHECK_EQ_INT(needy->nrebound, 0);
	CHECK_EQ_INT(needy->m->state, MOD_LOADED);
	CHECK(fm_log_has("needy: lost block:efi0, which it needs; stopping"));
	/* Each request completed once, with PB_EIO, none cancelled by
	 * efib's stop (they were handed over). */
	for (int i = 0; i < 4; i++)
		CHECK_MSG(completions[i] == 1 && statuses[i] == PB_EIO &&
		    cancels[i] == 0 && takes[i] == 0, "request %d completed %u "
		    "times (%d), cancelled %u, taken %u", i, completions[i],
		    (int)statuses[i], cancels[i], takes[i]);
	fm_teardown();
}

TEST(park_refused_requests_complete_with_an_error_once)
{
	struct pb_resource *sata0;

	REQUIRE(world());
	REQUIRE(submit(0, 0) == PB_OK && submit(1, 0) == PB_OK);
	REQUIRE(park() == 2);
	ahci_refuses = 1;
	sata0 = ahci_finds("sata0", PATH0);
	REQUIRE(sata0 != NULL);
	CHECK(fm_log_has("error: takeover: block:sata0 refused 2 requests of "
	    "block:efi0; they completed with -5"));
	/* The disk is ahci's all the same: the clients moved. */
	CHECK(fm_conn_res(needy, 0, 0) == sata0);
	CHECK(fm_log_has("-> block:sata0 (ahci), 0 requests handed over, 2 "
	    "clients"));
	fm_run_work();
	for (int i = 0; i < 2; i++)
		CHECK_MSG(completions[i] == 1 && statuses[i] == PB_EIO &&
		    takes[i] == 0 && cancels[i] == 0, "request %d completed %u "
		    "times (%d), taken %u, cancelled %u", i, completions[i],
		    (int)statuses[i], takes[i], cancels[i]);
	park_expire();
	fm_teardown();
}

TEST(park_abort_resumes_the_module)
{
	REQUIRE(world());
	REQUIRE(submit(0, 0) == PB_OK);
	REQUIRE(park_module(efib->m) == 2);
	park_abort();
	CHECK_EQ_INT(efib->m->state, MOD_RUNNING);
	CHECK_EQ_INT(efib->nresume, 1);
	CHECK(res_find("block:efi0") != NULL);
	CHECK(fm_conn_res(needy, 0, 0) == efib->res[0]);
	CHECK_EQ_INT(where[0], 0);	/* still efib's */
	CHECK_EQ_INT(exports, 0);
	fm_teardown();
}

TEST(park_refuses_a_module_that_cannot_hand_over)
{
	REQUIRE(world());
	efib_ops.export_state = NULL;
	CHECK_EQ_INT(park_module(efib->m), 0);
	CHECK(fm_log_has("error: takeover: efib cannot park its disks (it "
	    "cannot hand its requests over)"));
	CHECK_EQ_INT(efib->m->state, MOD_RUNNING);
	CHECK(!efib->quiesced);
	fm_teardown();
}

/* A queue it could not hand over is cancelled by its stop: a parked
 * disk's request waits for its driver all the same, once; another
 * disk's completes cancelled. */
TEST(park_keeps_a_parked_disks_request_its_module_cancelled)
{
	REQUIRE(world());
	REQUIRE(submit(0, 0) == PB_OK && submit(1, 2) == PB_OK);
	efib_export_fails = 1;
	REQUIRE(park() == 2);
	CHECK(fm_log_has("error: takeover: efib cannot hand its requests "
	    "over (-5): its stop cancels them, and those of parked disks "
	    "wait for their drivers"));
	CHECK(cancels[0] == 1 && cancels[1] == 1);
	CHECK_EQ_INT(completions[0], 0);
	CHECK(completions[1] == 1 && statuses[1] == PB_ECANCELED);
	where[0] = NOWHERE;	/* efib let go of it */
	CHECK(ahci_finds("sata0", PATH0) != NULL);
	CHECK_EQ_INT(takes[0], 1);
	CHECK_EQ_INT(completions[0], 0);
	fm_teardown();
}

TEST(park_forgets_a_client_gone_meanwhile)
{
	struct pb_resource *sata0;

	REQUIRE(world());
	REQUIRE(park() == 2);
	mod_stop(needy->m);		/* by hand, say */
	sata0 = ahci_finds("sata0", PATH0);
	REQUIRE(sata0 != NULL);
	CHECK(fm_log_has("-> block:sata0 (ahci), 0 requests handed over, 1 "
	    "client,"));
	CHECK_EQ_INT(cli_conns_to(sata0), 1);
	park_expire();
	fm_teardown();
}

/* pci's part: the controller's function, published and offered. */
static struct fm *
pci_bus(void)
{
	struct fm *pcib = fm_add("pcib", 0);

	fm_provide(pcib, "pci", 1, 0);
	fm_publish(pcib, "pci", "00:1f.2", "class=01.06.01");
	return fm_start(pcib) == PB_OK ? pcib : NULL;
}

TEST(park_controller_nobody_drives_lets_its_disks_go_at_once)
{
	struct fm *drv;
	struct pb_conn *holds;

	REQUIRE(world());
	REQUIRE(pci_bus() != NULL);
	REQUIRE(submit(0, 0) == PB_OK);
	/* A driver holds the controller: the disks wait for it. */
	drv = fm_add("drv", 0);
	REQUIRE(fm_start(drv) == PB_OK);
	holds = hub_services.connect(drv->m, "pci", 1, 0, "pci:00:1f.2");
	REQUIRE(holds != NULL);
	REQUIRE(park() == 2);
	park_check();
	fm_advance(300000000ull);
	CHECK(!fm_log_has("gone"));
	/* It lets go (it found no port it could drive): the next check
	 * lets the disks go, long before the deadline. */
	hub_services.disconnect(drv->m, holds);
	fm_advance(100000000ull);
	fm_run_work();
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") gone: no "
	    "driver holds its controller pci:00:1f.2; 2 clients told"));
	CHECK(completions[0] == 1 && statuses[0] == PB_EIO);
	CHECK_EQ_INT(cancels[0], 0);
	fm_teardown();
}

TEST(park_disk_named_only_by_the_firmware_goes_at_the_boots_end)
{
	REQUIRE(world());
	REQUIRE(pci_bus() != NULL);
	/* efi1's path is the firmware's text: no driver spells it. */
	rt_strlcpy(efib->res[1]->props, "path=PciRoot(0x0)/Pci(0x3,0x0)/"
	    "Scsi(0x0,0x0) size=1", sizeof(efib->res[1]->props));
	REQUIRE(park() == 2);
	park_check();		/* boot.c, once the takeover's work ran */
	CHECK(fm_log_has("takeover: block:efi1 (path=PciRoot(0x0)/Pci(0x3,0x0)"
	    "/Scsi(0x0,0x0)) gone: no native driver names it; 1 client told"));
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") gone: no "
	    "driver holds its controller pci:00:1f.2"));
	fm_teardown();
}

/* --- a disk withdrawn while a provider under its driver is recovered ------- */

#define PROPS0 "path=" PATH0 " size=1048576"

/* cli's connection of that name (held ones keep it). */
static struct conn *
cli_conn_named(const char *name)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == cli->m &&
		    strcmp(conns[i].pub.res, name) == 0)
			return &conns[i];
	return NULL;
}

/* ahci publishes block:sata0 with props; the hub offers it. */
static struct pb_resource *
ahci_publishes(const char *props)
{
	struct pb_resource *r = hub_services.publish(ahci->m, BLOCK_IFACE,
	    "sata0", props, &ahci_block_ops, &ahci_res_ctx);

	fm_run_work();
	return r;
}

/* sata0 found, request 0 taken by ahci through cli's connection; then,
 * with hci's recovery begun `ago` ns before (0: none), ahci lets go of
 * the disk as a driver whose device went does: request 0 given back
 * cancelled, the disk withdrawn. */
static int
disk_goes(uint64_t ago)
{
	struct pb_resource *sata0;
	struct conn *c;

	if (!world() || !(sata0 = ahci_publishes(PROPS0)) ||
	    !(c = cli_conn_named("block:sata0")) ||
	    ((const struct block_ops *)c->pub.ops)->submit(c->pub.ctx,
	    &req[0]) != PB_OK || where[0] != TAKEN)
		return 0;
	fm_advance(park_recovery_ns);
	hci->m->recovery_at_ns = ago ? hub_now_ns() - ago : 0;
	where[0] = NOWHERE;
	req[0].status = PB_ECANCELED;
	work_post(&req[0].done);
	if (hub_services.withdraw(ahci->m, sata0) != PB_OK)
		return 0;
	fm_run_work();
	return 1;
}

/* xhci restarted without its state: usb-storage's stick was found
 * afresh and block:usb0 published again, its clients kept meanwhile
 * (campaign usbonly 7070 #84: fat lost 4 blocks and the ESP went
 * read-only). */
TEST(park_keeps_a_disk_withdrawn_with_a_recovery_under_it)
{
	struct pb_resource *again;
	struct conn *c;
	unsigned told;

	REQUIRE(disk_goes(1000));
	told = cli->ndisconnected;
	CHECK(fm_log_has("block:sata0 (path=" PATH0 ") went with a recovery "
	    "under it: parked, 1 client kept until it is back"));
	/* The cancelled request waits, and so does one submitted now. */
	CHECK_EQ_INT(completions[0], 0);
	REQUIRE((c = cli_conn_named("block:sata0")) != NULL);
	CHECK(c->held);
	CHECK_EQ_INT(((const struct block_ops *)c->pub.ops)->submit(
	    c->pub.ctx, &req[1]), PB_OK);
	CHECK_EQ_INT(where[1], NOWHERE);
	fm_advance(70000000ull);
	REQUIRE((again = ahci_publishes(PROPS0)) != NULL);
	CHECK_EQ_INT(cli_conns_to(again), 1);
	CHECK(norder == 3 && order[1] == 0 && order[2] == 1);
	CHECK(takes[0] == 2 && takes[1] == 1);
	CHECK(completions[0] == 0 && completions[1] == 0);
	CHECK_EQ_INT(cli->ndisconnected, told);
	CHECK(fm_log_has("back: block:sata0 (path=" PATH0 ") -> block:sata0 "
	    "(ahci), 2 requests handed over, 1 client, parked 70 ms"));
	/* No deadline is left to pass. */
	fm_advance(park_recovery_ns);
	fm_run_work();
	CHECK(!fm_log_has("gone"));
	fm_teardown();
}

/* A disk not back within park_recovery_ns goes then, its requests
 * failed once. */
TEST(park_lets_go_of_a_recovery_disk_not_back_in_time)
{
	REQUIRE(disk_goes(1000));
	fm_advance(park_recovery_ns - 1);
	fm_run_work();
	CHECK(!fm_log_has("gone"));
	fm_advance(1);
	fm_run_work();
	CHECK(fm_log_has("block:sata0 (path=" PATH0 ") gone: not back in 5000 "
	    "ms; 1 client told"));
	CHECK(completions[0] == 1 && statuses[0] == PB_EIO);
	CHECK_EQ_INT(takes[0], 1);
	fm_teardown();
}

/* Another disk in its port (other properties: size, serial) does not
 * take its place: the parked one goes at once, and the clients take the
 * new one as any new disk. */
TEST(park_lets_go_of_a_recovery_disk_when_another_takes_its_port)
{
	struct pb_resource *other;

	REQUIRE(disk_goes(1000));
	REQUIRE((other = ahci_publishes("path=" PATH0 " size=2097152")) !=
	    NULL);
	CHECK(fm_log_has("block:sata0 (path=" PATH0 ") gone: another disk is "
	    "in its place; 1 client told"));
	CHECK(completions[0] == 1 && statuses[0] == PB_EIO);
	CHECK_EQ_INT(takes[0], 1);
	CHECK_EQ_INT(cli_conns_to(other), 1);
	CHECK(!fm_log_has("back: "));
	fm_teardown();
}

/* Without a recovery under it (or one long past), a disk that goes is
 * gone at once, as always. */
TEST(park_keeps_no_disk_that_goes_without_a_recovery_under_it)
{
	unsigned before;

	REQUIRE(world());
	before = cli->ndisconnected;
	fm_teardown();
	REQUIRE(disk_goes(0));
	CHECK_EQ_INT(cli->ndisconnected, before + 1);
	CHECK(!fm_log_has("parked"));
	CHECK(completions[0] == 1 && statuses[0] == PB_ECANCELED);
	fm_teardown();
	REQUIRE(disk_goes(park_recovery_ns));
	CHECK_EQ_INT(cli->ndisconnected, before + 1);
	CHECK(!fm_log_has("parked"));
	fm_teardown();
}
