/*
 * test_diet_inventory.c - the listings mods, res, deps, irqs and mem
 * (abi/rt/inventory.c, the shell's) read from the hub's inventory
 * services (ABI 1.3 hub_info, conn_info, irq_info and the fields added to
 * mod_info_sized and res_info_sized), on a client and its provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/pbmod.h"

static const struct pb_hub *const h = &hub_services;

static char out[8192];

static void
collect(void *arg, const char *line)
{
	size_t n = strlen(out);

	(void)arg;
	snprintf(out + n, sizeof(out) - n, "%s\n", line);
}

static int
list(const struct pb_hub *hub, const char *what)
{
	out[0] = '\0';
	return pb_inventory(hub, what, collect, NULL);
}

static struct fm *prov, *cli;

/* cli serves the target `top` and requires tcon, which prov serves with
 * three heap pages and an interrupt vector. */
static int
world(void)
{
	char e[200] = "";

	fm_setup();
	prov = fm_add("prov", 0);
	fm_serve(prov, "tcon", "t0");
	prov->heap_pages = 3;
	prov->want_irq = 1;
	cli = fm_add("cli", 0);
	fm_provide(cli, "top", 1, 0);
	fm_publish(cli, "top", "top0", "k=v");
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	rt_strlcpy(hub_target, "top", sizeof(hub_target));
	if (hub_start_module(cli->m, e, sizeof(e)) != PB_OK)
		return 0;
	fm_run_work();
	return prov->m->state == MOD_RUNNING && cli->m->state == MOD_RUNNING;
}

static void
done(void)
{
	rt_strlcpy(hub_target, "os", sizeof(hub_target));
	fm_teardown();
}

TEST(diet_inventory_mods)
{
	REQUIRE(world());
	CHECK_EQ_INT(list(h, "mods"), PB_OK);
	CHECK_CONTAINS(out, "NAME           VER    STATE     BASE           "
	    "SIZE  PROVIDES                 REQUIRES\n");
	CHECK_CONTAINS(out, "\nprov           1.0    running   0x0000000000"
	    "     0K  tcon 1.0                 -\n");
	CHECK_CONTAINS(out, "\ncli            1.0    running   0x0000000000"
	    "     0K  top 1.0                  tcon\n");
	done();
}

TEST(diet_inventory_res)
{
	REQUIRE(world());
	CHECK_EQ_INT(list(h, "res"), PB_OK);
	CHECK(strncmp(out, "hub\n", 4) == 0);
	CHECK_CONTAINS(out, "\nprov, provides \"tcon\"\n  tcon:t0 (1 client)\n");
	CHECK_CONTAINS(out, "\ncli, provides \"top\", requires \"tcon\"\n"
	    "  top:top0 k=v (0 clients)\n");
	done();
}

TEST(diet_inventory_deps)
{
	REQUIRE(world());
	CHECK_EQ_INT(list(h, "deps"), PB_OK);
	CHECK_STR(out, "top: cli\n  tcon -> tcon:t0 (prov)\n");
	rt_strlcpy(hub_target, "nothing", sizeof(hub_target));
	CHECK_EQ_INT(list(h, "deps"), PB_ENOENT);
	CHECK_STR(out, "error: deps: nothing provides nothing\n");
	done();
}

/* mem's total row is the sum of the rows above it (the hub's image,
 * "-", counts 0), and comes right before the free line. */
static int
mem_rows_add_up(const char *text)
{
	unsigned long long sum[3] = { 0, 0, 0 }, col[3];
	const char *line = strchr(text, '\n');
	char name[32], image[16];

	while (line && *++line) {
		if (sscanf(line, "%31s %15s %llu %llu", name, image, &col[1],
		    &col[2]) != 4)
			return 0;
		col[0] = strcmp(image, "-") == 0 ? 0 : strtoull(image, NULL, 10);
		if (strcmp(name, "total") == 0)
			return col[0] == sum[0] && col[1] == sum[1] &&
			    col[2] == sum[2] && sum[1] > 0 &&
			    strncmp(strchr(line, '\n') + 1, "free: ", 6) == 0;
		for (int i = 0; i < 3; i++)
			sum[i] += col[i];
		line = strchr(line, '\n');
	}
	return 0;
}

TEST(diet_inventory_mem)
{
	char want[128];

	REQUIRE(world());
	CHECK_EQ_INT(list(h, "mem"), PB_OK);
	CHECK_CONTAINS(out, "OWNER           IMAGE KiB   DATA KiB   MMIO KiB\n");
	CHECK_CONTAINS(out, "\nprov                    0         12          0\n");
	CHECK(mem_rows_add_up(out));
	snprintf(want, sizeof(want), "\nfree: %llu KiB, %u vectors\n",
	    (unsigned long long)mem_free_pages() * 4, irq_free_count());
	CHECK_CONTAINS(out, want);
	done();
}

TEST(diet_inventory_irqs)
{
	char want[64];

	REQUIRE(world());
	REQUIRE(prov->irq_vector >= 32);
	CHECK_EQ_INT(list(h, "irqs"), PB_OK);
	CHECK(strncmp(out, "VECTOR        COUNT  MODULE\n", 28) == 0);
	snprintf(want, sizeof(want), "\n%-6d %12u  prov\n", prov->irq_vector,
	    0u);
	CHECK_CONTAINS(out, want);
	done();
}

TEST(diet_inventory_services)
{
	struct pb_conn_info ci = { .struct_size = sizeof(ci) };
	struct pb_irq_info qi = { .struct_size = sizeof(qi) };
	struct pb_hub_info hi = { .struct_size = sizeof(hi) };
	struct pb_res_info ri = { .struct_size = sizeof(ri) };

	REQUIRE(world());
	CHECK_EQ_INT(h->hub_info(&hi), PB_OK);
	CHECK_STR(hi.target, "top");
	CHECK_STR(hi.target_provider, "cli");
	CHECK_EQ_INT(hi.target_mod, (int)(cli->m - modules));
	CHECK_EQ_INT(h->conn_info(0, &ci), PB_OK);
	CHECK_STR(ci.client, "cli");
	CHECK_STR(ci.res, "tcon:t0");
	CHECK_STR(ci.owner, "prov");
	CHECK_EQ_INT(ci.owner_mod, (int)(prov->m - modules));
	CHECK_EQ_INT(h->conn_info(1, &ci), PB_ENOENT);
	CHECK_EQ_INT(h->irq_info((unsigned)prov->irq_vector, &qi), PB_OK);
	CHECK_STR(qi.owner, "prov");
	CHECK_EQ_INT(h->irq_info(256, &qi), PB_ENOENT);
	CHECK_EQ_INT(h->res_info_sized("prov", 0, &ri), PB_OK);
	CHECK_EQ_INT(ri.owner_mod, (int)(prov->m - modules));
	CHECK_EQ_INT(ri.standby, 0);
	ci.struct_size = 0;
	CHECK_EQ_INT(h->conn_info(0, &ci), PB_EINVAL);
	done();
}

TEST(diet_inventory_unknown_and_old_hub)
{
	struct pb_hub old = hub_services;

	REQUIRE(world());
	CHECK_EQ_INT(list(h, "frob"), PB_EINVAL);
	CHECK_STR(out, "");
	old.size = offsetof(struct pb_hub, hub_info);
	CHECK_EQ_INT(list(&old, "mods"), PB_ENOTSUP);
	CHECK_STR(out, "error: mods: the hub is older than ABI 1.3\n");
	done();
}
