/*
 * test_park.c - parking firmware disks over the takeover (hub/park.c),
 * with fake providers.
 *
 * The world: `efib`, a firmware-backed module, serves block:efi0 and
 * block:efi1 (paths pci:00:1f.2/sata:0 and :1) and block:efi2 (no path);
 * `ahci`, a native module, runs and publishes its disks when the test
 * says, as a driver that probes its ports after the takeover would;
 * `cli` takes every block (the shell), `needy` needs one to run.
 * efib's requests are the test's struct block_req objects; where each one
 * is (queued at efib, handed by its export, submitted to ahci by the hub,
 * cancelled by efib's stop, completed by the hub) is tracked, so "exactly
 * once" is counted, not assumed.  Each test parks efib as boot.c's takeover does
 * (park_module, then park_start_clock after the exit).
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

static struct fm *efib, *ahci, *cli, *needy;
static struct pb_module_ops efib_ops, ahci_ops;
static struct block_req req[NREQ];
static int where[NREQ];			/* a disk (0, 1) or the above */
static int disk_of[NREQ];
static unsigned seq[NREQ], nseq;
static unsigned takes[NREQ], cancels[NREQ], completions[NREQ];
static int order[NREQ], norder;		/* what ahci took, in order */
static int32_t statuses[NREQ];
static unsigned exports, give_backs;
static int ahci_refuses;
static const char *const paths[2] = { PATH0, PATH1 };
static int ahci_res_ctx;

static int
idx(const struct block_req *r)
{
	return r >= req && r < req + NREQ ? (int)(r - req) : -1;
}

static void
queue_req(int i, int disk)
{
	where[i] = disk_of[i] = disk;
	seq[i] = ++nseq;
}

/* --- the state, as abi/block.h lays it out --------------------------------- */

static size_t
write_state(uint8_t *buf, int disk_filter)
{
	struct block_state st = { 0, 0 };
	uint8_t *p;
	uint32_t k = 0;

	for (int d = 0; d < 2; d++)
		if (disk_filter < 0 || disk_filter == d)
			st.ndisks++;
	for (int i = 0; i < NREQ; i++)
		if (where[i] == 0 || where[i] == 1)
			st.nreq++;
	memcpy(buf, &st, sizeof(st));
	p = buf + sizeof(st) + st.ndisks * sizeof(struct block_state_disk);
	for (int d = 0, nd = 0; d < 2; d++) {
		struct block_state_disk sd = { .first = k };

		rt_strlcpy(sd.path, paths[d], sizeof(sd.path));
		/* oldest first */
		for (unsigned s = 1; s <= nseq; s++)
			for (int i = 0; i < NREQ; i++) {
				struct block_req *r = &req[i];

				if (seq[i] != s || where[i] != d)
					continue;
				memcpy(p + k++ * sizeof(r), &r, sizeof(r));
				where[i] = HANDED;
			}
		sd.nreq = k - sd.first;
		memcpy(buf + sizeof(st) + nd++ * sizeof(sd), &sd, sizeof(sd));
	}
	return sizeof(st) + st.ndisks * sizeof(struct block_state_disk) +
	    k * sizeof(void *);
}

static int
efib_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	uint8_t tmp[1024];
	int keep[NREQ];

	*version = BLOCK_STATE_VERSION;
	memcpy(keep, where, sizeof(keep));
	*len = write_state(tmp, -1);
	if (!buf) {
		memcpy(where, keep, sizeof(keep));	/* only the size */
		return PB_OK;
	}
	if (cap < *len)
		return PB_EINVAL;
	memcpy(buf, tmp, *len);
	exports++;
	return PB_OK;
}

/* Every request a state lists, with the path it is listed under. */
static int
each_listed(const void *buf, size_t len, int (*fn)(int i, const char *path))
{
	struct block_state st;
	struct block_state_disk sd;
	const uint8_t *b = buf;
	int r;

	if (len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, b, sizeof(st));
	if (len != sizeof(st) + st.ndisks * sizeof(sd) + st.nreq * sizeof(void *))
		return PB_ESTATE;
	for (uint32_t d = 0; d < st.ndisks; d++) {
		memcpy(&sd, b + sizeof(st) + d * sizeof(sd), sizeof(sd));
		for (uint32_t k = sd.first; k < sd.first + sd.nreq; k++) {
			struct block_req *q;

			memcpy(&q, b + sizeof(st) + st.ndisks * sizeof(sd) +
			    k * sizeof(q), sizeof(q));
			if (idx(q) < 0)
				return PB_ESTATE;
			if ((r = fn(idx(q), sd.path)) != PB_OK)
				return r;
		}
	}
	return PB_OK;
}

static int
given_back(int i, const char *path)
{
	if (where[i] != HANDED || strcmp(path, paths[disk_of[i]]) != 0)
		return PB_ESTATE;
	where[i] = disk_of[i];
	give_backs++;
	return PB_OK;
}

static int
efib_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return version == BLOCK_STATE_VERSION ?
	    each_listed(buf, len, given_back) : PB_ESTATE;
}

static void
efib_stop(struct pb_module *m)
{
	for (int i = 0; i < NREQ; i++)
		if (where[i] == 0 || where[i] == 1) {
			where[i] = CANCELLED;
			cancels[i]++;
		}
	fm_ops.stop(m);
}

/* ahci's disks: submit takes a request handed over by efib. */
static int
ahci_info(void *ctx, struct block_info *bi)
{
	return PB_ENOTSUP;
}

static int
ahci_submit(void *ctx, struct block_req *r)
{
	int i = idx(r);

	if (ahci_refuses)
		return PB_EINVAL;
	if (i < 0 || where[i] != HANDED)
		return PB_ESTATE;	/* the test's alarm: not handed */
	where[i] = TAKEN;
	takes[i]++;
	order[norder++] = i;
	return PB_OK;
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
	norder = 0;
	memset(seq, 0, sizeof(seq));
	for (int i = 0; i < NREQ; i++)
		where[i] = NOWHERE;
	nseq = exports = give_backs = 0;
	ahci_refuses = 0;
	efib_ops = fm_ops;
	efib_ops.export_state = efib_export;
	efib_ops.import_state = efib_import;
	efib_ops.stop = efib_stop;
	ahci_ops = fm_ops;

	efib = fm_add("efib", 0);
	efib->m->ops = &efib_ops;
	efib->m->desc.flags |= PB_MOD_FIRMWARE;
	fm_provide(efib, BLOCK_IFACE, 1, 0);
	fm_publish(efib, BLOCK_IFACE, "efi0", "path=" PATH0 " size=1048576");
	fm_publish(efib, BLOCK_IFACE, "efi1", "path=" PATH1 " size=1048576");
	fm_publish(efib, BLOCK_IFACE, "efi2", "size=1048576");
	ahci = fm_add("ahci", 0);
	ahci->m->ops = &ahci_ops;
	fm_provide(ahci, BLOCK_IFACE, 1, 0);
	cli = fm_add("cli", 0);
	fm_require(cli, BLOCK_IFACE, 1, 0, PB_CARD_ALL, PB_LATER);
	needy = fm_add("needy", 0);
	fm_require(needy, BLOCK_IFACE, 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(efib) != PB_OK || fm_start(ahci) != PB_OK ||
	    fm_start(cli) != PB_OK || fm_start(needy) != PB_OK)
		return 0;
	for (int i = 0; i < NREQ; i++) {
		req[i].size = sizeof(req[i]);
		work_init(cli->m, &req[i].done, req_done, &req[i]);
	}
	return fm_nconns(cli) == 3 && fm_conn_res(needy, 0, 0) == efib->res[0];
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

/* The connection of cli that leads to r (or NULL). */
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

/* The takeover's part: park efib (before the exit), start the clock. */
static unsigned
park(void)
{
	unsigned n = park_module(efib->m);

	park_start_clock();
	return n;
}

/* --- the tests ----------------------------------------------------------------- */

TEST(park_keeps_clients_and_hides_the_disks)
{
	struct pb_resource *efi0;

	REQUIRE(world());
	efi0 = efib->res[0];
	CHECK_EQ_INT(park(), 2);
	CHECK_EQ_INT(efib->m->state, MOD_QUIESCED);
	CHECK(efib->quiesced && efib->released);
	/* Parked: the connections stay, no new client finds them. */
	CHECK_EQ_INT(cli_conns_to(efi0), 1);
	CHECK(fm_conn_res(needy, 0, 0) == efi0);
	CHECK(res_find("block:efi0") == NULL);
	CHECK(res_best(BLOCK_IFACE, 1, 0, NULL) == NULL);
	CHECK(park_holds(efib->m));
	/* efi2 has no identity: it goes now, its client told. */
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
	queue_req(0, 0);
	queue_req(1, 0);
	queue_req(2, 1);
	REQUIRE(park() == 2);
	queue_req(3, 0);		/* submitted while parked */
	fm_advance(143000000ull);
	sata0 = ahci_finds("sata0", PATH0);
	REQUIRE(sata0 != NULL);
	/* Disk 0's three went to ahci, oldest first; disk 1's came back. */
	CHECK(takes[0] == 1 && takes[1] == 1 && takes[3] == 1);
	CHECK(norder == 3 && order[0] == 0 && order[1] == 1 && order[2] == 3);
	CHECK_EQ_INT(takes[2], 0);
	CHECK_EQ_INT(where[2], 1);
	CHECK_EQ_INT(give_backs, 1);
	/* The clients are on sata0 now, told once, with no second
	 * connection from the offer that followed. */
	CHECK_EQ_INT(cli_conns_to(sata0), 1);
	CHECK(fm_conn_res(needy, 0, 0) == sata0);
	CHECK_EQ_INT(cli->nrebound, 1);
	CHECK_EQ_INT(needy->nrebound, 1);
	CHECK(!named_exists("block:efi0"));
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") -> "
	    "block:sata0 (ahci), 3 requests handed over, 2 clients, parked "
	    "143 ms"));
	CHECK_EQ_INT(efib->m->state, MOD_QUIESCED);	/* efi1 waits */
	sata1 = ahci_finds("sata1", PATH1);
	CHECK_EQ_INT(takes[2], 1);
	CHECK_EQ_INT(cli_conns_to(sata1), 1);
	CHECK(fm_log_has("-> block:sata1 (ahci), 1 request handed over, 1 "
	    "client"));
	/* Nothing parked is left: efib goes, cancelling nothing. */
	CHECK_EQ_INT(efib->m->state, MOD_UNLOADED);
	CHECK(!park_holds(efib->m));
	/* Each taken once; completing them is ahci's now, not the hub's. */
	for (int i = 0; i < 4; i++)
		CHECK_MSG(takes[i] == 1 && cancels[i] == 0 &&
		    completions[i] == 0, "request %d taken %u times, cancelled "
		    "%u, completed %u", i, takes[i], cancels[i], completions[i]);
	/* The deadline passes without a word. */
	fm_advance(park_wait_ns);
	CHECK(!fm_log_has("gone"));
	CHECK_EQ_INT(cli->ndisconnected, 1);	/* efi2's, at the park */
	fm_teardown();
}

TEST(park_non_matching_path_is_not_claimed)
{
	struct pb_resource *other;
	struct fm *fwx;

	REQUIRE(world());
	queue_req(0, 0);
	REQUIRE(park() == 2);
	other = ahci_finds("sata5", "pci:00:1f.2/sata:5");
	REQUIRE(other != NULL);
	/* A disk of another path is a disk of its own: cli takes it as
	 * every new disk, needy stays with its parked one. */
	CHECK_EQ_INT(cli_conns_to(other), 1);
	CHECK(fm_conn_res(needy, 0, 0) == efib->res[0]);
	CHECK_EQ_INT(exports, 0);
	/* The same path on another interface, or from a firmware-backed
	 * module, does not claim it either. */
	hub_services.publish(ahci->m, BLOCK_IFACE, "x", "path=" PATH1 "x",
	    &fm_tcon_ops[0], &ahci_res_ctx);
	fwx = fm_add("fwx", 0);
	fwx->m->desc.flags |= PB_MOD_FIRMWARE;
	fm_provide(fwx, BLOCK_IFACE, 1, 0);
	fm_provide(fwx, "tcon", 1, 0);
	fm_publish(fwx, BLOCK_IFACE, "fw0", "path=" PATH0);
	fm_publish(fwx, "tcon", "t0", "path=" PATH0);
	REQUIRE(fm_start(fwx) == PB_OK);
	CHECK_EQ_INT(exports, 0);
	CHECK(park_holds(efib->m));
	CHECK_EQ_INT(where[0], 0);
	park_expire();
	fm_teardown();
}

TEST(park_deadline_tells_clients_and_cancels_once)
{
	REQUIRE(world());
	queue_req(0, 0);
	queue_req(1, 0);
	queue_req(2, 1);
	REQUIRE(park() == 2);
	ahci_finds("sata5", "pci:00:1f.2/sata:5");	/* not theirs */
	fm_advance(park_wait_ns - 1);
	CHECK(park_holds(efib->m));
	CHECK(!fm_log_has("gone"));
	fm_advance(1);
	CHECK(!park_holds(efib->m));
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") gone: no native "
	    "driver took it in 10000 ms; 2 clients told"));
	CHECK(fm_log_has("takeover: block:efi1 (path=" PATH1 ") gone: no native "
	    "driver took it in 10000 ms; 1 client told"));
	CHECK_EQ_INT(cli->ndisconnected, 1 + 2);
	/* needy needed it: stopped, never rebound to another disk. */
	CHECK_EQ_INT(needy->nrebound, 0);
	CHECK_EQ_INT(needy->m->state, MOD_LOADED);
	CHECK(fm_log_has("needy: lost block:efi0, which it needs; stopping"));
	/* efib went; its stop completed each queued request once. */
	CHECK_EQ_INT(efib->m->state, MOD_UNLOADED);
	for (int i = 0; i < 3; i++)
		CHECK_MSG(cancels[i] == 1 && takes[i] == 0, "request %d "
		    "cancelled %u times, taken %u", i, cancels[i], takes[i]);
	fm_teardown();
}

TEST(park_refused_requests_complete_with_the_answer_once)
{
	struct pb_resource *sata0;

	REQUIRE(world());
	queue_req(0, 0);
	queue_req(1, 0);
	REQUIRE(park() == 2);
	ahci_refuses = 1;
	sata0 = ahci_finds("sata0", PATH0);
	REQUIRE(sata0 != NULL);
	CHECK(fm_log_has("error: takeover: block:sata0 took 0 of the 2 "
	    "requests of block:efi0; the others completed with its answer"));
	/* The disk is ahci's all the same: the clients moved. */
	CHECK(fm_conn_res(needy, 0, 0) == sata0);
	CHECK(fm_log_has("-> block:sata0 (ahci), 0 requests handed over, 2 "
	    "clients"));
	fm_run_work();
	for (int i = 0; i < 2; i++)
		CHECK_MSG(completions[i] == 1 && statuses[i] == PB_EINVAL &&
		    takes[i] == 0 && cancels[i] == 0, "request %d completed %u "
		    "times (%d), taken %u, cancelled %u", i, completions[i],
		    (int)statuses[i], takes[i], cancels[i]);
	/* efi1 waits on; when it goes, efib's stop does not cancel them
	 * again: they were handed over. */
	CHECK_EQ_INT(efib->m->state, MOD_QUIESCED);
	fm_advance(park_wait_ns);
	CHECK_EQ_INT(efib->m->state, MOD_UNLOADED);
	CHECK(completions[0] == 1 && completions[1] == 1);
	CHECK(cancels[0] == 0 && cancels[1] == 0);
	fm_teardown();
}

TEST(park_abort_resumes_the_module)
{
	REQUIRE(world());
	REQUIRE(park_module(efib->m) == 2);
	park_abort();
	CHECK_EQ_INT(efib->m->state, MOD_RUNNING);
	CHECK_EQ_INT(efib->nresume, 1);
	CHECK(res_find("block:efi0") != NULL);
	CHECK(!park_holds(efib->m));
	fm_teardown();
}

TEST(park_refuses_a_module_that_cannot_hand_over)
{
	REQUIRE(world());
	efib_ops.import_state = NULL;
	CHECK_EQ_INT(park_module(efib->m), 0);
	CHECK(fm_log_has("error: takeover: efib cannot park its disks (it "
	    "cannot hand its requests over)"));
	CHECK_EQ_INT(efib->m->state, MOD_RUNNING);
	CHECK(!efib->quiesced);
	fm_teardown();
}

TEST(park_forgets_a_module_unloaded_meanwhile)
{
	REQUIRE(world());
	queue_req(0, 0);
	REQUIRE(park() == 2);
	mod_unload(efib->m);		/* by hand, say */
	CHECK_EQ_INT(cancels[0], 1);
	CHECK(ahci_finds("sata0", PATH0) != NULL);
	CHECK_EQ_INT(exports, 0);
	CHECK(!park_holds(efib->m));
	fm_advance(park_wait_ns);
	CHECK(!fm_log_has("gone"));
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
	struct pb_conn *held;

	REQUIRE(world());
	REQUIRE(pci_bus() != NULL);
	queue_req(0, 0);
	/* A driver holds the controller: the disks wait for it. */
	drv = fm_add("drv", 0);
	REQUIRE(fm_start(drv) == PB_OK);
	held = hub_services.connect(drv->m, "pci", 1, 0, "pci:00:1f.2");
	REQUIRE(held != NULL);
	REQUIRE(park() == 2);
	park_check();
	fm_advance(300000000ull);
	CHECK(park_holds(efib->m));
	/* It lets go (it found no port it could drive): the next check
	 * lets the disks go, long before the deadline. */
	hub_services.disconnect(drv->m, held);
	fm_advance(100000000ull);
	CHECK(!park_holds(efib->m));
	CHECK(fm_log_has("takeover: block:efi0 (path=" PATH0 ") gone: no "
	    "driver holds its controller pci:00:1f.2; 2 clients told"));
	CHECK_EQ_INT(cancels[0], 1);
	CHECK_EQ_INT(efib->m->state, MOD_UNLOADED);
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
	CHECK(!park_holds(efib->m));
	fm_teardown();
}

