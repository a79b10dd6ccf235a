/*
 * test_resolve.c - the resolver (hub/resolve.c) on synthetic module sets.
 *
 * Each test builds its set with add(), one candidate per line:
 *
 *	"NAME [r=RANK] [running|refused] +IFACE[@M.m][/BASE@M.m]...
 *	    -IFACE[@M.m][?|*][~]... [bind=IFACE:PATTERN]..."
 *
 * `+` provides (optionally extending BASE), `-` requires: exactly one by
 * default, `?` optional, `*` all, `~` later rather than at start.  Versions
 * default to 1.0.  In bind patterns, `,` stands for a space.  ext() adds a
 * resource the hub publishes itself, like `firmware`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../hub/match.h"
#include "../../hub/resolve.h"

static struct pb_modinfo descs[RS_MAX + 1];
static struct rs_cand cands[RS_MAX + 1];
static struct rs_res exts[RS_MAX_EXT];
static struct rs_set set;
static struct rs_plan plan;

static void
reset(void)
{
	memset(descs, 0, sizeof(descs));
	memset(cands, 0, sizeof(cands));
	memset(exts, 0, sizeof(exts));
	memset(&plan, 0xa5, sizeof(plan));	/* the resolver must set it all */
	set = (struct rs_set){ .cands = cands, .ncands = 0, .ext = exts,
	    .next = 0 };
}

/* A test's own mistake: stop loudly. */
static void
bad_spec(const char *spec, const char *why)
{
	fprintf(stderr, "test_resolve: bad spec \"%s\": %s\n", spec, why);
	abort();
}

/* "iface@M.m" into name and version; returns the end. */
static const char *
parse_iface(const char *s, char *name, uint16_t *ma, uint16_t *mi)
{
	size_t n = strcspn(s, "@/?*~ ");
	char *end;

	if (n == 0 || n >= PB_IFACE_MAX)
		bad_spec(s, "interface name");
	memcpy(name, s, n);
	name[n] = '\0';
	*ma = 1, *mi = 0;
	s += n;
	if (*s == '@') {
		*ma = (uint16_t)strtoul(s + 1, &end, 10);
		if (*end != '.')
			bad_spec(s, "version");
		*mi = (uint16_t)strtoul(end + 1, &end, 10);
		s = end;
	}
	return s;
}

static void
parse_bind(struct pb_modinfo *d, const char *tok, size_t len)
{
	struct pb_bind *b = &d->binds[d->nbinds++];
	const char *colon = memchr(tok, ':', len);

	if (!colon || colon == tok || d->nbinds > PB_MAX_BINDS)
		bad_spec(tok, "bind");
	memcpy(b->iface, tok, (size_t)(colon - tok));
	memcpy(b->match, colon + 1, len - (size_t)(colon - tok) - 1);
	for (char *p = b->match; *p; p++)
		if (*p == ',')
			*p = ' ';
}

static void
parse_token(struct pb_modinfo *d, int *state, const char *tok, size_t len)
{
	const char *s;

	if (tok[0] == '+') {
		struct pb_provide *p = &d->provides[d->nprovides++];

		s = parse_iface(tok + 1, p->iface, &p->major, &p->minor);
		if (*s == '/')
			s = parse_iface(s + 1, p->extends, &p->ext_major,
			    &p->ext_minor);
	} else if (tok[0] == '-') {
		struct pb_require *q = &d->requires[d->nrequires++];

		s = parse_iface(tok + 1, q->iface, &q->major, &q->minor);
		for (; *s && *s != ' '; s++)
			if (*s == '?')
				q->card = PB_CARD_OPTIONAL;
			else if (*s == '*')
				q->card = PB_CARD_ALL;
			else if (*s == '~')
				q->when = PB_LATER;
			else
				bad_spec(tok, "requirement flag");
	} else if (strncmp(tok, "r=", 2) == 0) {
		d->rank = (int32_t)strtol(tok + 2, NULL, 10);
	} else if (strncmp(tok, "bind=", 5) == 0) {
		parse_bind(d, tok + 5, len - 5);
	} else if (len == 7 && strncmp(tok, "running", 7) == 0) {
		*state = RS_RUNNING;
	} else if (len == 7 && strncmp(tok, "refused", 7) == 0) {
		*state = RS_REFUSED;
	} else {
		bad_spec(tok, "token");
	}
	if (d->nprovides > PB_MAX_PROVIDES || d->nrequires > PB_MAX_REQUIRES)
		bad_spec(tok, "too many");
}

/* Add one candidate; returns its index. */
static int
add(const char *spec)
{
	int i = set.ncands++;
	struct pb_modinfo *d = &descs[i];
	const char *s = spec;
	size_t n;

	if (i >= RS_MAX + 1)
		bad_spec(spec, "set full");
	d->magic = PB_MODINFO_MAGIC;
	d->abi_major = PB_ABI_MAJOR;
	n = strcspn(s, " ");
	if (n == 0 || n >= PB_NAME_MAX)
		bad_spec(spec, "name");
	memcpy(d->name, s, n);
	cands[i] = (struct rs_cand){ d, RS_AVAILABLE };
	for (s += n; *s; s += n) {
		s += strspn(s, " ");
		if ((n = strcspn(s, " ")) > 0)
			parse_token(d, &cands[i].state, s, n);
	}
	return i;
}

static void
ext(const char *iface, uint16_t major, uint16_t minor)
{
	exts[set.next++] = (struct rs_res){ iface, major, minor };
}

/* The plan's order as names: "mem pci ahci fat os". */
static const char *
order(void)
{
	static char buf[RS_MAX * PB_NAME_MAX];

	buf[0] = '\0';
	for (int i = 0; i < plan.n && i < RS_MAX; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, descs[plan.order[i]].name);
	}
	return buf;
}

static int
served_before(int pos, const struct pb_require *q)
{
	for (int i = 0; i < set.next; i++)
		if (strcmp(exts[i].iface, q->iface) == 0 &&
		    exts[i].major == q->major && exts[i].minor >= q->minor)
			return 1;
	for (int c = 0; c < set.ncands; c++) {
		int planned_at = -1;

		for (int i = 0; i < pos; i++)
			if (plan.order[i] == c)
				planned_at = i;
		if (cands[c].state != RS_RUNNING && planned_at < 0)
			continue;
		for (int k = 0; k < descs[c].nprovides; k++)
			if (iface_serves(&descs[c].provides[k], q->iface,
			    q->major, q->minor))
				return 1;
	}
	return 0;
}

/* Every planned module appears once, is AVAILABLE, and comes after a
 * provider of each of its blocking requirements. */
static int
plan_valid(void)
{
	for (int i = 0; i < plan.n; i++) {
		int c = plan.order[i];
		const struct pb_modinfo *d = &descs[c];

		if (c < 0 || c >= set.ncands || cands[c].state != RS_AVAILABLE)
			return 0;
		for (int j = 0; j < i; j++)
			if (plan.order[j] == c)
				return 0;
		for (int k = 0; k < d->nrequires; k++) {
			const struct pb_require *q = &d->requires[k];

			if (q->when == PB_AT_START &&
			    q->card != PB_CARD_OPTIONAL && !served_before(i, q))
				return 0;
		}
	}
	return 1;
}

static int
go(const char *iface, uint16_t major, uint16_t minor)
{
	return resolve(&set, iface, major, minor, &plan);
}

/* ------------------------------------------------------------------------ */

/* The seed's Appendix 2, in this project's interfaces: the target pulls in
 * memory, a file system over a disk over PCI, a console, every display,
 * an optional keyboard, and the network later. */
TEST(resolve_boot_chain)
{
	reset();
	add("os +os -memory -fs -console -display* -keyboard? -net~");
	add("ide r=1 +block -isa");
	add("fat +fs -block -memory");
	add("ahci r=5 +block -pci -memory -irq");
	add("vga r=-1 +display -io");
	add("net +net -pci");
	add("pci +pci -io -irq");
	add("mem +memory");
	add("ps2 +keyboard -io -irq");
	add("gop +display");
	add("serial +console -io");
	add("pic +irq");
	add("mbio +io");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "mem mbio pic pci ahci fat serial gop vga ps2 os net");
	CHECK_STR(plan.error, "");
	CHECK_STR(plan.notes, "");
	CHECK(plan_valid());
}

TEST(resolve_rank_then_name)
{
	reset();
	add("os +os -console");
	add("low r=1 +console");
	add("zeta r=5 +console");
	add("alpha r=5 +console");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "alpha os");

	/* Negative ranks are just lower. */
	reset();
	add("os +os -console");
	add("b r=-3 +console");
	add("a r=-4 +console");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "b os");
}

/* The order of the candidate array does not change the plan. */
TEST(resolve_order_independent)
{
	static const char *specs[] = {
		"os +os -fs -console -display*", "fat +fs -block",
		"ext2 r=3 +fs -disk", "ahci r=2 +block -pci", "ide +block -pci",
		"pci +pci", "serial +console", "efi r=1 +console -firmware",
		"gop +display", "bochs r=4 +display -pci",
	};
	const size_t n = sizeof(specs) / sizeof(specs[0]);
	char first[512];

	reset();
	ext("firmware", 1, 0);
	for (size_t i = 0; i < n; i++)
		add(specs[i]);
	REQUIRE(go("os", 1, 0) == 0);
	snprintf(first, sizeof(first), "%s", order());
	CHECK_STR(first, "pci ahci fat efi bochs gop os");
	/* Again, same answer. */
	REQUIRE(go("os", 1, 0) == 0);
	CHECK_STR(order(), first);
	/* Reversed. */
	reset();
	ext("firmware", 1, 0);
	for (size_t i = n; i-- > 0; )
		add(specs[i]);
	REQUIRE(go("os", 1, 0) == 0);
	CHECK_STR(order(), first);
}

TEST(resolve_fallback_next_provider)
{
	reset();
	add("os +os -fs");
	add("ext2 r=10 +fs -disk");
	add("fat r=1 +fs -block");
	add("ramdisk +block");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "ramdisk fat os");
	CHECK_STR(plan.error, "");
	CHECK_STR(plan.notes, "skipped ext2: os -> fs -> disk: no provider");
	CHECK(plan_valid());
}

/* A provider that fails halfway takes back what it had planned. */
TEST(resolve_fallback_takes_back)
{
	reset();
	add("os +os -fs");
	add("ext2 r=10 +fs -block -journal");
	add("fat r=1 +fs -memory");
	add("ahci +block");
	add("mem +memory");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "mem fat os");
	CHECK_CONTAINS(plan.notes, "skipped ext2: os -> fs -> journal: no provider");
}

TEST(resolve_missing_provider_chain)
{
	reset();
	add("os +os -fs");
	add("fat +fs -block");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os -> fs -> block: no provider");
	CHECK_EQ_INT(plan.n, 0);
	CHECK_STR(plan.notes, "");

	/* The target itself. */
	CHECK_EQ_INT(go("shell", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "shell: no provider");
}

/* Every provider fails: the best one's reason is the error. */
TEST(resolve_missing_reports_best)
{
	reset();
	add("os +os -fs");
	add("fat r=1 +fs -block");
	add("ext2 r=10 +fs -disk");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os -> fs -> disk: no provider");
	CHECK_EQ_INT(plan.n, 0);
}

TEST(resolve_version_mismatch)
{
	reset();
	add("os +os -console@2.0");
	add("serial +console@1.3");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error,
	    "os -> console: need console 2.0, serial provides console 1.3");

	/* Same major, minor too old. */
	reset();
	add("os +os -console@1.4");
	add("serial +console@1.3");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error,
	    "os -> console: need console 1.4, serial provides console 1.3");

	/* The target at the wrong version. */
	CHECK_EQ_INT(go("console", 1, 5), PB_ENOENT);
	CHECK_STR(plan.error,
	    "console: need console 1.5, serial provides console 1.3");
}

TEST(resolve_cycle_two)
{
	reset();
	add("a +x -y");
	add("b +y -x");
	CHECK_EQ_INT(go("x", 1, 0), PB_EINVAL);
	CHECK_STR(plan.error, "cycle: a -> b -> a");
	CHECK_EQ_INT(plan.n, 0);
}

TEST(resolve_cycle_three)
{
	reset();
	add("os +os -x");
	add("a +x -y");
	add("b +y -z");
	add("c +z -x");
	CHECK_EQ_INT(go("os", 1, 0), PB_EINVAL);
	CHECK_STR(plan.error, "cycle: a -> b -> c -> a");
	CHECK_EQ_INT(resolve_module(&set, 2, &plan), PB_EINVAL);
	CHECK_STR(plan.error, "cycle: b -> c -> a -> b");
	/* A module needing what it provides itself is not a cycle: it just
	 * has no other provider. */
	reset();
	add("loop +x -x");
	CHECK_EQ_INT(go("x", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "x -> x: no provider");
}

/* The best provider closes a cycle; the next one does not. */
TEST(resolve_cycle_avoided_by_fallback)
{
	reset();
	add("a +x -y");
	add("b r=5 +y -x");
	add("c r=1 +y");
	CHECK_EQ_INT(go("x", 1, 0), 0);
	CHECK_STR(order(), "c a");
	CHECK_STR(plan.notes, "skipped b: cycle: a -> b -> a");
}

TEST(resolve_optional_never_blocks)
{
	/* Nobody provides it. */
	reset();
	add("os +os -keyboard?");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	CHECK_STR(plan.notes, "");

	/* Its provider cannot start. */
	reset();
	add("os +os -keyboard?");
	add("ps2 +keyboard -irq");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	CHECK_STR(plan.error, "");
	CHECK_STR(plan.notes, "skipped ps2: os -> keyboard -> irq: no provider");

	/* Its provider would need the client first. */
	reset();
	add("os +os -keyboard?");
	add("ps2 +keyboard -os");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	CHECK_STR(plan.notes, "skipped ps2: cycle: os -> ps2 -> os");

	/* Wrong version. */
	reset();
	add("os +os -keyboard@2.0?");
	add("ps2 +keyboard");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
}

TEST(resolve_optional_pulled_in)
{
	reset();
	add("os +os -keyboard? -console");
	add("serial +console");
	add("usbkbd r=2 +keyboard -usb");
	add("ps2 r=1 +keyboard -irq");
	add("pic +irq");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "pic ps2 serial os");
	CHECK_STR(plan.notes, "skipped usbkbd: os -> keyboard -> usb: no provider");
	CHECK(plan_valid());
}

TEST(resolve_later_does_not_block)
{
	reset();
	add("os +os -net~ -audio*~ -mouse?~");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	CHECK_STR(plan.notes, "");

	/* A later provider that cannot start is noted, not an error. */
	reset();
	add("os +os -net~");
	add("e1000 +net -pci");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	CHECK_STR(plan.error, "");
	CHECK_STR(plan.notes, "skipped e1000: os -> net -> pci: no provider");
}

TEST(resolve_later_appended_after_client)
{
	reset();
	add("os +os -net~ -console");
	add("e1000 +net -pci");
	add("pci +pci");
	add("serial +console");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "serial os pci e1000");

	/* A later provider may need its client at start: no cycle, it just
	 * comes after, and after what needed the client too. */
	reset();
	add("top +os -x");
	add("x +x -log~");
	add("logger +log -os");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "x top logger");
	CHECK(plan_valid());
}

TEST(resolve_all_collects)
{
	reset();
	add("os +os -display*");
	add("gop +display");
	add("broken +display -edid");
	add("bochs r=2 +display -pci");
	add("pci +pci");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "pci bochs gop os");
	CHECK_STR(plan.notes,
	    "skipped broken: os -> display -> edid: no provider");
	CHECK(plan_valid());

	/* Running providers count, and available ones are still added. */
	cands[1].state = RS_RUNNING;
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "pci bochs os");
}

TEST(resolve_all_needs_one_at_start)
{
	reset();
	add("os +os -display*");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os -> display: no provider");

	add("broken +display -edid");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os -> display -> edid: no provider");

	/* Satisfied by a running one alone. */
	add("gop running +display");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	CHECK_CONTAINS(plan.notes, "skipped broken");

	/* Later: zero is fine. */
	reset();
	add("os +os -display*~");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");
	add("gop +display");
	add("vga +display");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os gop vga");
}

/* `display 2.1 extends display 1.3`: a new major still serves old clients. */
TEST(resolve_extends_new_major)
{
	reset();
	add("os +os -display@1.2");
	add("vga r=9 +display@1.1");
	add("gpu +display@2.1/display@1.3");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "gpu os");

	reset();
	add("os +os -display@1.4");
	add("gpu +display@2.1/display@1.3");
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error,
	    "os -> display: need display 1.4, gpu provides display 1.3");
}

/* `block-part extends block`: a partition serves block clients, and sits
 * on a block device itself, never on itself. */
TEST(resolve_extends_base)
{
	reset();
	add("fat +fs -block");
	add("ahci +block");
	add("gpt r=5 +block-part/block -block");
	add("parted +tool -block-part");
	CHECK_EQ_INT(go("fs", 1, 0), 0);
	CHECK_STR(order(), "ahci gpt fat");
	CHECK_EQ_INT(go("tool", 1, 0), 0);
	CHECK_STR(order(), "ahci gpt parted");
	/* The base does not serve clients of the extension. */
	cands[2].state = RS_REFUSED;
	CHECK_EQ_INT(go("tool", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "tool -> block-part: no provider (gpt refused)");
	/* Without another block device, gpt has nothing to sit on. */
	reset();
	add("fat +fs -block");
	add("gpt r=5 +block-part/block -block");
	CHECK_EQ_INT(go("fs", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "fs -> block -> block: no provider");
}

TEST(resolve_external_resource)
{
	reset();
	ext("firmware", 1, 0);
	add("os +os -console -files?");
	add("eficon +console -firmware");
	add("efifs +files -firmware@1.1");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "eficon os");
	CHECK_STR(plan.notes, "skipped efifs: os -> files -> firmware: need "
	    "firmware 1.1, the hub provides firmware 1.0");
	/* The hub's resource serves the target itself. */
	CHECK_EQ_INT(go("firmware", 1, 0), 0);
	CHECK_EQ_INT(plan.n, 0);

	/* After the takeover, firmware is gone. */
	set.next = 0;
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os -> console -> firmware: no provider");
}

TEST(resolve_refused_never_chosen)
{
	reset();
	add("os +os -block");
	add("ahci r=9 refused +block");
	add("ide +block");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "ide os");

	cands[2].state = RS_REFUSED;
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os -> block: no provider (ahci refused)");

	/* A refused target. */
	cands[0].state = RS_REFUSED;
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	CHECK_STR(plan.error, "os: no provider (os refused)");
	CHECK_EQ_INT(resolve_module(&set, 0, &plan), PB_ENOENT);
	CHECK_STR(plan.error, "os: refused");
}

TEST(resolve_running_preferred)
{
	reset();
	add("os +os -console -memory");
	add("serial r=1 running +console");
	add("fbcon r=9 +console");
	add("mem running +memory");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "os");

	/* The target runs already: nothing to do. */
	cands[0].state = RS_RUNNING;
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_EQ_INT(plan.n, 0);
	CHECK_STR(plan.error, "");
}

/* The same module known twice (say from the ramdisk and from the ESP),
 * and one provider shared by many clients. */
TEST(resolve_multiple_instances)
{
	reset();
	add("os +os -fs -log -console");
	add("fat +fs -block -log");
	add("ahci +block -log");
	add("fat +fs -block -log");
	add("log +log +console");
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "log ahci fat os");
	CHECK_EQ_INT(plan.order[2], 1);		/* the first fat */
	CHECK(plan_valid());

	cands[1].state = RS_REFUSED;
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_EQ_INT(plan.order[2], 3);		/* the other one */

	cands[3].state = RS_RUNNING;
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "log os");
}

TEST(resolve_module_plan)
{
	reset();
	add("fat +fs -block -clock? -cache~");
	add("ahci +block -pci");
	add("pci running +pci");
	add("cache +cache -fs");
	CHECK_EQ_INT(resolve_module(&set, 0, &plan), 0);
	CHECK_STR(order(), "ahci fat cache");
	CHECK(plan_valid());

	/* Running already: nothing. */
	cands[0].state = RS_RUNNING;
	CHECK_EQ_INT(resolve_module(&set, 0, &plan), 0);
	CHECK_EQ_INT(plan.n, 0);

	/* Missing: the chain starts at the module. */
	cands[0].state = RS_AVAILABLE;
	cands[2].state = RS_AVAILABLE;
	descs[2].nprovides = 0;
	CHECK_EQ_INT(resolve_module(&set, 0, &plan), PB_ENOENT);
	CHECK_STR(plan.error, "fat -> block -> pci: no provider");

	CHECK_EQ_INT(resolve_module(&set, 4, &plan), PB_EINVAL);
	CHECK_EQ_INT(resolve_module(&set, -1, &plan), PB_EINVAL);
}

/* Many failing alternatives, layer over layer: without remembering
 * failures this takes 3^20 steps. */
TEST(resolve_many_failing_alternatives)
{
	char spec[64], why[512];
	int len;

	reset();
	add("os +os -l0");
	for (int k = 0; k < 20; k++)
		for (int j = 0; j < 3; j++) {
			snprintf(spec, sizeof(spec), "%c%d r=%d +l%d -l%d",
			    'a' + j, k, 3 - j, k, k + 1);
			add(spec);
		}
	CHECK_EQ_INT(go("os", 1, 0), PB_ENOENT);
	len = snprintf(why, sizeof(why), "os");
	for (int k = 0; k <= 20; k++)
		len += snprintf(why + len, sizeof(why) - len, " -> l%d", k);
	snprintf(why + len, sizeof(why) - len, ": no provider");
	CHECK_STR(plan.error, why);

	/* The last one of the last layer can start: one chain resolves. */
	descs[set.ncands - 1].nrequires = 0;
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_EQ_INT(plan.n, 21);
	CHECK(plan_valid());
}

TEST(resolve_bad_sets)
{
	reset();
	add("os +os");
	CHECK_EQ_INT(go(NULL, 1, 0), PB_EINVAL);
	CHECK_EQ_INT(go("", 1, 0), PB_EINVAL);
	CHECK_EQ_INT(resolve(NULL, "os", 1, 0, &plan), PB_EINVAL);
	set.ncands = RS_MAX + 1;
	CHECK_EQ_INT(go("os", 1, 0), PB_EINVAL);
	CHECK_CONTAINS(plan.error, "at most 128");
	set.ncands = 2;
	cands[1].desc = NULL;
	CHECK_EQ_INT(go("os", 1, 0), PB_EINVAL);
	CHECK_EQ_INT(bind_candidates(&set, "pci", "", (int[4]){ 0 }, 4), 0);
	/* Exactly RS_MAX is fine. */
	reset();
	for (int i = 0; i < RS_MAX; i++)
		add(i ? "x +x -y" : "os +os -y");
	add("y +y");
	set.ncands = RS_MAX;
	descs[RS_MAX - 1] = descs[RS_MAX];
	CHECK_EQ_INT(go("os", 1, 0), 0);
	CHECK_STR(order(), "y os");
}

TEST(resolve_bind_candidates)
{
	int out[8];

	reset();
	add("ahci-old r=1 bind=pci:class=01.06.01");
	add("ahci r=5 bind=pci:class=01.06.*");
	add("nvme bind=pci:class=01.08.*");
	add("ahci-z r=5 bind=pci:class=01.06.*,vendor=8086");
	add("ahci-run r=9 running bind=pci:class=01.06.*");
	add("ahci-bad r=9 refused bind=pci:class=01.06.*");
	add("twice bind=pci:class=01.06.01 bind=pci:vendor=8086");
	add("pcie bind=pcie:class=01.06.01");
	add("any bind=pci:");
	add("cl bind=pci:cl=01.06.01");

	CHECK_EQ_INT(bind_candidates(&set, "pci",
	    "vendor=8086 device=2922 class=01.06.01", out, 8), 5);
	CHECK_EQ_INT(out[0], 1);	/* ahci: rank 5 */
	CHECK_EQ_INT(out[1], 3);	/* ahci-z: rank 5, after by name */
	CHECK_EQ_INT(out[2], 0);	/* ahci-old: rank 1 */
	CHECK_EQ_INT(out[3], 8);	/* any: rank 0, by name */
	CHECK_EQ_INT(out[4], 6);	/* twice: once */

	/* At most max, the best ones. */
	CHECK_EQ_INT(bind_candidates(&set, "pci",
	    "vendor=8086 class=01.06.01", out, 2), 2);
	CHECK_EQ_INT(out[0], 1);
	CHECK_EQ_INT(out[1], 3);

	CHECK_EQ_INT(bind_candidates(&set, "pci", "class=01.08.02", out, 8), 2);
	CHECK_EQ_INT(out[0], 8);
	CHECK_EQ_INT(out[1], 2);
	CHECK_EQ_INT(bind_candidates(&set, "usb", "class=01.06.01", out, 8), 0);
	CHECK_EQ_INT(bind_candidates(&set, "pci", "class=01.06.01", out, 0), 0);
}

/* Random sets: a plan is always valid, a failure always explained, and
 * shuffling the candidate array changes neither. */
static uint32_t seed = 12345;

static uint32_t
rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

static void
random_set(int n)
{
	static const char *ifaces[] = { "os", "a", "b", "c", "d", "e", "f" };
	char spec[256];

	reset();
	for (int i = 0; i < n; i++) {
		int len = snprintf(spec, sizeof(spec), "m%02d r=%d%s", i,
		    (int)rnd(3), rnd(8) == 0 ? " running" : rnd(8) == 0 ?
		    " refused" : "");

		for (int k = 0, np = 1 + (int)rnd(2); k < np; k++)
			len += snprintf(spec + len, sizeof(spec) - len,
			    " +%s@1.%u", ifaces[rnd(7)], rnd(2));
		for (int k = 0, nr = (int)rnd(4); k < nr; k++)
			len += snprintf(spec + len, sizeof(spec) - len,
			    " -%s@1.%u%s%s", ifaces[1 + rnd(6)], rnd(2),
			    (const char *[]){ "", "", "?", "*" }[rnd(4)],
			    rnd(5) == 0 ? "~" : "");
		add(spec);
	}
}

TEST(resolve_random_sets)
{
	struct pb_modinfo saved[16];
	int states[16], r, r2;
	char first[512], err[256];

	for (int round = 0; round < 500; round++) {
		int n = 4 + (int)rnd(12);

		random_set(n);
		r = go("os", 1, 0);
		if (r == 0) {
			CHECK_MSG(plan_valid(), "round %d: invalid plan %s",
			    round, order());
			CHECK_STR(plan.error, "");
		} else {
			CHECK_MSG(r == PB_ENOENT || r == PB_EINVAL,
			    "round %d: %d", round, r);
			CHECK_EQ_INT(plan.n, 0);
			CHECK_MSG(plan.error[0] != '\0', "round %d", round);
		}
		snprintf(first, sizeof(first), "%s", order());
		snprintf(err, sizeof(err), "%s", plan.error);

		/* Shuffle and resolve again. */
		for (int i = 0; i < n; i++) {
			saved[i] = descs[i];
			states[i] = cands[i].state;
		}
		for (int i = n - 1; i > 0; i--) {
			int j = (int)rnd((uint32_t)i + 1);
			struct pb_modinfo t = saved[i];
			int ts = states[i];

			saved[i] = saved[j], saved[j] = t;
			states[i] = states[j], states[j] = ts;
		}
		for (int i = 0; i < n; i++) {
			descs[i] = saved[i];
			cands[i].state = states[i];
		}
		r2 = go("os", 1, 0);
		CHECK_EQ_INT(r2, r);
		CHECK_STR(order(), first);
		CHECK_STR(plan.error, err);
		if (check_failures())
			return;
	}
}
