/*
 * test_res.c - resources and connections (hub/res.c), the services that
 * publish and connect (hub/services.c), dependants, unload and gc
 * (hub/lifecycle.c), with fake modules.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static int
ledger_empty(struct fm *f)
{
	char why[128];

	return mod_holds_nothing(f->m, why, sizeof(why));
}

/* A provider of tcon (1.minor) publishing "tcon:name", started. */
static struct fm *
provider(const char *name, int rank, uint16_t minor)
{
	struct fm *f = fm_add(name, rank);

	fm_provide(f, "tcon", 1, minor);
	fm_publish(f, "tcon", name, NULL);
	if (fm_start(f) != PB_OK)
		return NULL;
	return f;
}

static struct fm *
client(const char *name, int card, int when)
{
	struct fm *f = fm_add(name, 0);

	fm_require(f, "tcon", 1, 0, card, when);
	return f;
}

/* --- publish and withdraw ----------------------------------------------- */

TEST(res_publish_and_withdraw)
{
	struct pb_resource *r, *h, *s;
	struct fm *p;
	int ops;

	fm_setup();
	p = fm_add("prov", 1);
	fm_provide(p, "tcon", 1, 2);
	r = res_publish(p->m, "tcon", "p0", "w=80 h=25", &fm_tcon_ops[0],
	    &p->inst[0]);
	REQUIRE(r != NULL);
	CHECK_STR(r->name, "tcon:p0");
	CHECK_STR(r->props, "w=80 h=25");
	CHECK(r->owner == p->m);
	CHECK(r->ops == &fm_tcon_ops[0] && r->ctx == &p->inst[0]);
	CHECK_EQ_INT(r->iface.major, 1);
	CHECK_EQ_INT(r->iface.minor, 2);	/* from the descriptor */
	CHECK(!r->standby);
	CHECK(res_find("tcon:p0") == r);
	CHECK(res_find("tcon:p") == NULL);

	/* Refusals: a name taken, an interface not declared, no ops. */
	CHECK(res_publish(p->m, "tcon", "p0", NULL, &ops, NULL) == NULL);
	CHECK(fm_log_has("prov: resource tcon:p0 exists"));
	CHECK(res_publish(p->m, "kbd", "k0", NULL, &ops, NULL) == NULL);
	CHECK(fm_log_has("prov: publishes kbd, which it does not declare"));
	CHECK(res_publish(p->m, "tcon", "p1", NULL, NULL, NULL) == NULL);
	CHECK(res_find("tcon:p1") == NULL);

	/* The hub publishes whatever it likes. */
	h = res_publish(NULL, "firmware", "efi", "vendor=test", &ops, NULL);
	REQUIRE(h != NULL);
	CHECK(h->owner == NULL);
	CHECK_STR(h->iface.iface, "firmware");
	CHECK(res_find("firmware:efi") == h);

	CHECK_EQ_INT(res_withdraw(r), PB_OK);
	CHECK(!r->used);
	CHECK(res_find("tcon:p0") == NULL);
	CHECK_EQ_INT(res_withdraw(r), PB_EINVAL);
	/* The name is free again. */
	CHECK(res_publish(p->m, "tcon", "p0", NULL, &ops, NULL) != NULL);

	/* A module in standby publishes invisibly. */
	p->m->state = MOD_STANDBY;
	s = res_publish(p->m, "tcon", "sb", NULL, &ops, NULL);
	REQUIRE(s != NULL);
	CHECK(s->standby);
	CHECK(res_find("tcon:sb") == NULL);
	CHECK(res_best("tcon", 1, 0, NULL) != s);
	fm_teardown();
}

TEST(res_table_full)
{
	struct fm *p;
	char name[16];
	unsigned n = 0;
	int ops;

	fm_setup();
	p = fm_add("prov", 1);
	fm_provide(p, "tcon", 1, 0);
	for (unsigned i = 0; i < MAX_RESOURCES + 5; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		n += res_publish(p->m, "tcon", name, NULL, &ops, NULL) != NULL;
	}
	CHECK_EQ_INT(n, MAX_RESOURCES);
	CHECK_EQ_INT(fm_nres(p), MAX_RESOURCES);
	res_drop_module(p->m);
	CHECK_EQ_INT(fm_nres(p), 0);
	fm_teardown();
}

/* --- choosing a provider ------------------------------------------------- */

TEST(res_best_by_rank_then_name)
{
	struct fm *lo, *hi, *hi2, *neg;
	struct pb_resource *y, *x, *a, *hub, *n;
	int ops;

	fm_setup();
	lo = fm_add("lo", 1);
	hi = fm_add("hi", 5);
	hi2 = fm_add("hi2", 5);
	neg = fm_add("neg", -3);
	fm_provide(lo, "tcon", 1, 1);
	fm_provide(hi, "tcon", 1, 0);
	fm_provide(hi2, "tcon", 1, 0);
	fm_provide(neg, "tcon", 1, 0);
	CHECK(res_best("tcon", 1, 0, NULL) == NULL);
	/* Published out of order: slots do not decide. */
	a = res_publish(lo->m, "tcon", "a", NULL, &ops, NULL);
	y = res_publish(hi->m, "tcon", "y", NULL, &ops, NULL);
	x = res_publish(hi2->m, "tcon", "x", NULL, &ops, NULL);
	hub = res_publish(NULL, "tcon", "zz", NULL, &ops, NULL);
	n = res_publish(neg->m, "tcon", "b", NULL, &ops, NULL);
	REQUIRE(y && x && a && hub && n);
	hub->iface.major = 1;	/* the hub sets its versions itself (boot.c) */
	CHECK(res_best("tcon", 1, 0, NULL) == x);	/* rank 5, "x" < "y" */
	CHECK(res_best("tcon", 1, 0, hi2->m) == y);
	CHECK(res_best("tcon", 1, 0, hi->m) == x);
	CHECK(res_best("tcon", 1, 1, NULL) == a);	/* only lo has 1.1 */
	CHECK(res_best("tcon", 1, 2, NULL) == NULL);
	res_withdraw(x);
	res_withdraw(y);
	CHECK(res_best("tcon", 1, 0, NULL) == a);
	res_withdraw(a);
	CHECK(res_best("tcon", 1, 0, NULL) == hub);	/* the hub ranks 0 */
	res_withdraw(hub);
	CHECK(res_best("tcon", 1, 0, NULL) == n);
	fm_teardown();
}

TEST(res_extension_serves_base_clients)
{
	struct fm *ext, *c, *c13;
	struct pb_resource *e;

	fm_setup();
	ext = fm_add("ext", 1);
	fm_provide_ext(ext, "tcon-ext", 2, 0, "tcon", 1, 2);
	fm_publish(ext, "tcon-ext", "e0", NULL);
	REQUIRE(fm_start(ext) == PB_OK);
	e = ext->res[0];
	CHECK(res_best("tcon", 1, 0, NULL) == e);
	CHECK(res_best("tcon", 1, 2, NULL) == e);
	CHECK(res_best("tcon", 1, 3, NULL) == NULL);
	CHECK(res_best("tcon", 2, 0, NULL) == NULL);
	CHECK(res_best("tcon-ext", 2, 0, NULL) == e);
	CHECK(res_best("tcon-ext", 1, 0, NULL) == NULL);
	c = fm_add("c", 0);
	fm_require(c, "tcon", 1, 1, PB_CARD_ONE, PB_AT_START);
	CHECK_EQ_INT(fm_start(c), PB_OK);
	REQUIRE(fm_conn(c, 0, 0) != NULL);
	CHECK(fm_conn_res(c, 0, 0) == e);
	CHECK(c->conn[0] == (struct pb_conn *)fm_conn(c, 0, 0));	/* told CONNECTED */
	c13 = fm_add("c13", 0);
	fm_require(c13, "tcon", 1, 3, PB_CARD_ONE, PB_AT_START);
	CHECK_EQ_INT(fm_start(c13), PB_ENOENT);
	fm_teardown();
}

TEST(res_version_rule)
{
	struct fm *p, *c10, *c12, *c13, *c20;

	fm_setup();
	p = provider("p", 1, 2);
	REQUIRE(p != NULL);
	c10 = fm_add("c10", 0);
	fm_require(c10, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	c12 = fm_add("c12", 0);
	fm_require(c12, "tcon", 1, 2, PB_CARD_ONE, PB_AT_START);
	c13 = fm_add("c13", 0);
	fm_require(c13, "tcon", 1, 3, PB_CARD_ONE, PB_AT_START);
	c20 = fm_add("c20", 0);
	fm_require(c20, "tcon", 2, 0, PB_CARD_ONE, PB_AT_START);
	CHECK_EQ_INT(fm_start(c10), PB_OK);
	CHECK_EQ_INT(fm_start(c12), PB_OK);
	CHECK_EQ_INT(fm_start(c13), PB_ENOENT);
	CHECK_EQ_INT(fm_start(c20), PB_ENOENT);
	CHECK(fm_log_has("c13 -> tcon: no provider"));
	CHECK(fm_log_has("c20 -> tcon: no provider"));
	CHECK_EQ_INT(fm_nconns(c10) + fm_nconns(c12), 2);
	CHECK_EQ_INT(fm_nconns(c13) + fm_nconns(c20), 0);
	CHECK_EQ_INT(c13->nstart + c20->nstart, 0);
	fm_teardown();
}

/* --- connecting requirements ------------------------------------------- */

TEST(res_connect_one_optional_all)
{
	struct fm *p1, *p2, *one, *opt, *all, *self;

	fm_setup();
	p1 = provider("p1", 1, 0);
	p2 = provider("p2", 2, 0);
	REQUIRE(p1 && p2);
	one = client("one", PB_CARD_ONE, PB_AT_START);
	opt = client("opt", PB_CARD_OPTIONAL, PB_AT_START);
	all = client("all", PB_CARD_ALL, PB_AT_START);
	fm_trace_clear();
	CHECK_EQ_INT(res_connect_requirements(one->m, 1), PB_OK);
	CHECK_EQ_INT(res_connect_requirements(opt->m, 1), PB_OK);
	CHECK_EQ_INT(res_connect_requirements(all->m, 1), PB_OK);
	CHECK_EQ_INT(fm_nconns(one), 1);
	CHECK(fm_conn_res(one, 0, 0) == p2->res[0]);	/* the best */
	CHECK_EQ_INT(fm_nconns(opt), 1);
	CHECK(fm_conn_res(opt, 0, 0) == p2->res[0]);
	CHECK_EQ_INT(fm_nconns(all), 2);
	CHECK_STR(fm_trace, "one.connected(tcon:p2) opt.connected(tcon:p2) "
	    "all.connected(tcon:p1) all.connected(tcon:p2)");
	/* Again: nothing more. */
	CHECK_EQ_INT(res_connect_requirements(one->m, 1), PB_OK);
	CHECK_EQ_INT(res_connect_requirements(all->m, 1), PB_OK);
	CHECK_EQ_INT(fm_nconns(one), 1);
	CHECK_EQ_INT(fm_nconns(all), 2);
	/* A module never serves itself. */
	self = fm_add("self", 9);
	fm_provide(self, "tcon", 1, 0);
	fm_publish(self, "tcon", "self0", NULL);
	fm_require(self, "tcon", 1, 0, PB_CARD_ALL, PB_LATER);
	CHECK_EQ_INT(fm_start(self), PB_OK);
	CHECK_EQ_INT(fm_nconns(self), 2);
	for (unsigned i = 0; i < 2; i++)
		CHECK(fm_conn_res(self, 0, i) &&
		    fm_conn_res(self, 0, i)->owner != self->m);
	fm_teardown();
}

TEST(res_connect_missing_providers)
{
	struct fm *f;
	static const struct {
		int card, when, at_start_err, later_err;
	} cases[] = {
		{ PB_CARD_ONE, PB_AT_START, PB_ENOENT, PB_OK },
		{ PB_CARD_OPTIONAL, PB_AT_START, PB_OK, PB_OK },
		{ PB_CARD_ALL, PB_AT_START, PB_ENOENT, PB_OK },
		{ PB_CARD_ONE, PB_LATER, PB_OK, PB_OK },
		{ PB_CARD_OPTIONAL, PB_LATER, PB_OK, PB_OK },
		{ PB_CARD_ALL, PB_LATER, PB_OK, PB_OK },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fm_setup();
		f = fm_add("m", 0);
		fm_require(f, "kbd", 1, 0, cases[i].card, cases[i].when);
		CHECK_MSG(res_connect_requirements(f->m, 1) ==
		    cases[i].at_start_err, "case %u at start", i);
		CHECK_MSG(res_connect_requirements(f->m, 0) ==
		    cases[i].later_err, "case %u later", i);
		CHECK_MSG(fm_nconns(f) == 0, "case %u", i);
		fm_teardown();
	}
}

/* at_start picks the AT_START requirements only, and the other call the
 * LATER ones. */
TEST(res_connect_at_start_vs_later)
{
	struct fm *p, *m;

	fm_setup();
	p = provider("p", 1, 0);
	REQUIRE(p != NULL);
	m = fm_add("m", 0);
	fm_require(m, "tcon", 1, 0, PB_CARD_ONE, PB_LATER);	/* req 0 */
	fm_require(m, "kbd", 1, 0, PB_CARD_ONE, PB_AT_START);	/* req 1 */
	CHECK_EQ_INT(res_connect_requirements(m->m, 1), PB_ENOENT);
	CHECK(fm_log_has("m -> kbd: no provider"));
	CHECK_EQ_INT(fm_nconns(m), 0);
	CHECK_EQ_INT(res_connect_requirements(m->m, 0), PB_OK);
	CHECK_EQ_INT(fm_nconns(m), 1);
	REQUIRE(fm_conn(m, 0, 0) != NULL);
	CHECK(fm_conn_res(m, 0, 0) == p->res[0]);
	CHECK(m->conn[0] == (struct pb_conn *)fm_conn(m, 0, 0));
	fm_teardown();
}

/* A resource that appears is offered to the running modules that want it. */
TEST(res_offer_connects_waiting_clients)
{
	struct fm *all, *later, *idle, *p1, *p2, *p3;

	fm_setup();
	all = client("all", PB_CARD_ALL, PB_LATER);
	later = client("later", PB_CARD_ONE, PB_LATER);
	idle = client("idle", PB_CARD_ALL, PB_LATER);	/* never started */
	REQUIRE(fm_start(all) == PB_OK && fm_start(later) == PB_OK);
	CHECK_EQ_INT(fm_nconns(all) + fm_nconns(later), 0);
	p1 = provider("p1", 1, 0);
	REQUIRE(p1 != NULL);
	CHECK_EQ_INT(fm_nconns(all), 1);
	CHECK_EQ_INT(fm_nconns(later), 1);
	CHECK_EQ_INT(all->nconnected, 1);
	CHECK_EQ_INT(later->nconnected, 1);
	CHECK_EQ_INT(fm_nconns(idle), 0);
	p2 = provider("p2", 9, 0);
	REQUIRE(p2 != NULL);
	CHECK_EQ_INT(fm_nconns(all), 2);
	CHECK_EQ_INT(fm_nconns(later), 1);	/* stays where it is */
	CHECK(fm_conn_res(later, 0, 0) == p1->res[0]);
	/* Offering again connects nothing twice. */
	res_offer(p2->res[0]);
	res_offer(p1->res[0]);
	CHECK_EQ_INT(fm_nconns(all), 2);
	CHECK_EQ_INT(all->nconnected, 2);
	/* A standby resource is offered to no one. */
	p3 = fm_add("p3", 5);
	fm_serve(p3, "tcon", "p3");
	REQUIRE(mod_start(p3->m, PB_START_STANDBY) == PB_OK);
	fm_run_work();
	res_offer_module(p3->m);
	CHECK_EQ_INT(fm_nconns(all), 2);
	fm_teardown();
}

/* --- withdrawal: the fallback ladder ----------------------------------- */

static struct fm *hi, *mid, *lo, *one, *later, *opt, *all;

static int
ladder(void)
{
	fm_setup();
	hi = provider("hi", 3, 0);
	mid = provider("mid", 2, 0);
	lo = provider("lo", 1, 0);
	one = client("one", PB_CARD_ONE, PB_AT_START);
	later = client("later", PB_CARD_ONE, PB_LATER);
	opt = client("opt", PB_CARD_OPTIONAL, PB_AT_START);
	all = client("all", PB_CARD_ALL, PB_LATER);
	return hi && mid && lo && fm_start(one) == PB_OK &&
	    fm_start(later) == PB_OK && fm_start(opt) == PB_OK &&
	    fm_start(all) == PB_OK && fm_nconns(all) == 3 &&
	    fm_conn_res(one, 0, 0) == hi->res[0];
}

static int
on(struct fm *c, struct fm *p)
{
	struct conn *k = fm_conn(c, 0, 0);

	return k && k->res == p->res[0] && k->pub.ctx == &p->inst[0] &&
	    k->pub.ops == p->iops && strcmp(k->pub.res, p->res[0]->name) == 0;
}

TEST(res_withdraw_falls_back_down_the_ladder)
{
	REQUIRE(ladder());
	fm_trace_clear();
	CHECK_EQ_INT(res_withdraw(hi->res[0]), PB_OK);
	CHECK(on(one, mid) && on(later, mid) && on(opt, mid));
	CHECK_EQ_INT(one->nrebound + later->nrebound + opt->nrebound, 3);
	CHECK_EQ_INT(all->ndisconnected, 1);
	CHECK_EQ_INT(all->nrebound, 0);
	CHECK_EQ_INT(fm_nconns(all), 2);
	CHECK_CONTAINS(fm_trace, "one.rebound(tcon:mid)");
	CHECK_CONTAINS(fm_trace, "all.disconnected(tcon:hi)");
	CHECK(fm_log_has("one: tcon:hi gone, rebound to tcon:mid"));
	CHECK_EQ_INT(res_withdraw(mid->res[0]), PB_OK);
	CHECK(on(one, lo) && on(later, lo) && on(opt, lo));
	CHECK_EQ_INT(one->nrebound, 2);
	CHECK_EQ_INT(all->ndisconnected, 2);
	CHECK_EQ_INT(fm_nconns(all), 1);
	CHECK_EQ_INT(one->ndisconnected + later->ndisconnected +
	    opt->ndisconnected, 0);
	CHECK_EQ_INT(one->m->state, MOD_RUNNING);
	fm_teardown();
}

/* The last provider goes: one, which needs a tcon to run, is stopped; the
 * others are told and keep running.  Run in a child (res.c crashed here). */
static const char *
withdraw_last(void)
{
	FM_ICHECK(ladder());
	res_withdraw(hi->res[0]);
	res_withdraw(mid->res[0]);
	fm_trace_clear();
	res_withdraw(lo->res[0]);
	FM_ICHECK(one->ndisconnected == 1);
	FM_ICHECK(one->m->state == MOD_LOADED);		/* stopped */
	FM_ICHECK(one->nstop == 1);
	FM_ICHECK(fm_nconns(one) == 0);
	FM_ICHECK(fm_log_has("one: lost tcon:lo, which it needs; stopping"));
	FM_ICHECK(later->ndisconnected == 1 && later->m->state == MOD_RUNNING);
	FM_ICHECK(opt->ndisconnected == 1 && opt->m->state == MOD_RUNNING);
	FM_ICHECK(all->ndisconnected == 3 && all->m->state == MOD_RUNNING);
	FM_ICHECK(fm_nconns(later) + fm_nconns(opt) + fm_nconns(all) == 0);
	fm_teardown();
	return NULL;
}

TEST(res_withdraw_last_provider_stops_needy_client)
{
	const char *why = fm_isolated(withdraw_last);

	CHECK_MSG(why == NULL, "%s", why);
}

/* Stopping one withdraws what it publishes, and its own clients follow. */
static const char *
withdraw_cascade(void)
{
	struct fm *p, *m, *d;

	fm_setup();
	p = provider("p", 1, 0);
	FM_ICHECK(p != NULL);
	m = fm_add("m", 0);
	fm_require(m, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	fm_serve(m, "svc", "m0");
	d = fm_add("d", 0);
	fm_require(d, "svc", 1, 0, PB_CARD_ONE, PB_AT_START);
	FM_ICHECK(fm_start(m) == PB_OK && fm_start(d) == PB_OK);
	FM_ICHECK(fm_nconns(d) == 1);
	res_withdraw(p->res[0]);
	FM_ICHECK(m->m->state == MOD_LOADED);
	FM_ICHECK(res_find("svc:m0") == NULL);
	FM_ICHECK(d->ndisconnected == 1);
	FM_ICHECK(d->m->state == MOD_LOADED);
	fm_teardown();
	return NULL;
}

TEST(res_withdraw_cascades)
{
	const char *why = fm_isolated(withdraw_cascade);

	CHECK_MSG(why == NULL, "%s", why);
}

/* A module that was stopped (state LOADED) can be started again once its
 * provider is back. */
TEST(res_stopped_module_starts_again)
{
	struct fm *p, *c;
	char e[160] = "";

	fm_setup();
	p = provider("p", 1, 0);
	REQUIRE(p != NULL);
	c = client("c", PB_CARD_ONE, PB_AT_START);
	REQUIRE(fm_start(c) == PB_OK);
	mod_stop(c->m);
	REQUIRE(c->m->state == MOD_LOADED);
	CHECK_EQ_INT(fm_nconns(c), 0);
	CHECK_EQ_INT(hub_start_module(c->m, e, sizeof(e)), PB_OK);
	CHECK_EQ_INT(c->m->state, MOD_RUNNING);
	CHECK_EQ_INT(c->nstart, 2);
	CHECK_EQ_INT(fm_nconns(c), 1);
	fm_teardown();
}

/* m stops: its connections close without a word to it, and the clients of
 * what it published fall back. */
TEST(res_drop_module)
{
	struct fm *p, *m, *alt, *d, *e;

	fm_setup();
	p = provider("p", 1, 0);
	REQUIRE(p != NULL);
	m = fm_add("m", 5);
	fm_require(m, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	fm_serve(m, "svc", "m0");
	alt = fm_add("alt", 1);
	fm_serve(alt, "svc", "alt0");
	d = fm_add("d", 0);
	fm_require(d, "svc", 1, 0, PB_CARD_ONE, PB_LATER);
	e = fm_add("e", 0);
	fm_require(e, "svc", 1, 0, PB_CARD_ALL, PB_LATER);
	REQUIRE(fm_start(m) == PB_OK && fm_start(alt) == PB_OK &&
	    fm_start(d) == PB_OK && fm_start(e) == PB_OK);
	REQUIRE(fm_conn_res(d, 0, 0) == m->res[0]);
	CHECK_EQ_INT(fm_nconns(e), 2);
	fm_trace_clear();
	res_drop_module(m->m);
	CHECK_EQ_INT(fm_nconns(m), 0);
	CHECK_EQ_INT(m->ndisconnected, 0);		/* not told */
	CHECK_EQ_INT(res_clients(p->res[0]), 0);
	CHECK_EQ_INT(fm_nres(m), 0);
	CHECK(res_find("svc:m0") == NULL);
	CHECK(fm_conn_res(d, 0, 0) == alt->res[0]);	/* rebound */
	CHECK_EQ_INT(d->nrebound, 1);
	CHECK_EQ_INT(e->ndisconnected, 1);
	CHECK_EQ_INT(fm_nconns(e), 1);
	CHECK_STR(fm_trace, "d.rebound(svc:alt0) e.disconnected(svc:m0)");
	fm_teardown();
}

/* --- the services -------------------------------------------------------- */

TEST(res_services_publish_connect)
{
	struct fm *m, *x;
	struct pb_resource *r;
	struct pb_conn *pc;
	struct pb_res_info ri;
	struct pb_mod_info mi;
	const struct pb_hub *h = &hub_services;

	fm_setup();
	m = fm_add("m", 1);
	fm_provide(m, "tcon", 1, 1);
	x = fm_add("x", 0);
	CHECK(h->publish(m->m, "kbd", "k0", NULL, &fm_tcon_ops[0],
	    &m->inst[0]) == NULL);
	CHECK(fm_log_has("m: publishes kbd, which it does not declare"));
	CHECK_EQ_INT(fm_run_work(), 0);		/* nothing to offer */
	r = h->publish(m->m, "tcon", "t0", "a=1", &fm_tcon_ops[0], &m->inst[0]);
	REQUIRE(r != NULL);
	CHECK_EQ_INT(fm_run_work(), 1);		/* the offer */
	CHECK(r->offered);

	CHECK_EQ_INT(h->set_props(x->m, r, "a=2"), PB_EINVAL);
	CHECK_EQ_INT(h->set_props(m->m, NULL, "a=2"), PB_EINVAL);
	CHECK_EQ_INT(h->set_props(m->m, r, "a=3 b=4"), PB_OK);
	CHECK_STR(r->props, "a=3 b=4");

	pc = h->connect(x->m, "tcon", 1, 0, "tcon:t0");
	REQUIRE(pc != NULL);
	CHECK(pc->ops == &fm_tcon_ops[0] && pc->ctx == &m->inst[0]);
	CHECK_STR(pc->res, "tcon:t0");
	CHECK(h->connect(x->m, "tcon", 1, 2, "tcon:t0") == NULL);
	CHECK(h->connect(x->m, "tcon", 1, 0, "tcon:nope") == NULL);
	CHECK(h->connect(x->m, "kbd", 1, 0, NULL) == NULL);
	CHECK(h->connect(m->m, "tcon", 1, 0, NULL) == NULL);	/* not itself */

	CHECK_EQ_INT(h->res_info("m", 0, &ri), PB_OK);
	CHECK_STR(ri.name, "tcon:t0");
	CHECK_STR(ri.owner, "m");
	CHECK_STR(ri.props, "a=3 b=4");
	CHECK_EQ_INT(ri.clients, 1);
	CHECK_EQ_INT(ri.minor, 1);
	CHECK_EQ_INT(h->res_info("m", 1, &ri), PB_ENOENT);
	CHECK_EQ_INT(h->res_info("x", 0, &ri), PB_ENOENT);
	CHECK_EQ_INT(h->mod_info(1, &mi), PB_OK);
	CHECK_STR(mi.name, "x");
	CHECK_EQ_INT(mi.nconn, 1);
	CHECK_EQ_INT(h->mod_info(0, &mi), PB_OK);
	CHECK_EQ_INT(mi.nres, 1);
	CHECK_EQ_INT(h->mod_info(nmodules, &mi), PB_ENOENT);

	/* Only the holder disconnects, only the owner withdraws. */
	h->disconnect(m->m, pc);
	CHECK(fm_log_has("m: disconnects a connection it does not hold"));
	CHECK_EQ_INT(res_clients(r), 1);
	h->disconnect(x->m, pc);
	CHECK_EQ_INT(res_clients(r), 0);
	CHECK_EQ_INT(h->withdraw(x->m, r), PB_EINVAL);
	CHECK(r->used);
	CHECK_EQ_INT(h->withdraw(m->m, r), PB_OK);
	CHECK(!r->used);
	fm_teardown();
}

/* --- dependants, unload, gc ---------------------------------------------- */

/* A client that uses p only as an option does not keep it: it is told p
 * went (serial without `irq` goes back to polling). */
TEST(res_unload_past_an_optional_client)
{
	struct fm *p, *opt;
	char e[160], out[64];

	fm_setup();
	p = provider("p", 1, 0);
	REQUIRE(p != NULL);
	opt = client("opt", PB_CARD_OPTIONAL, PB_LATER);
	REQUIRE(fm_start(opt) == PB_OK);
	CHECK_EQ_INT(hub_dependants(p->m, out, sizeof(out)), 1);
	CHECK_EQ_INT(hub_unload(p->m, e, sizeof(e)), PB_OK);
	CHECK_EQ_INT(p->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(opt->m->state, MOD_RUNNING);
	CHECK(fm_log_has("p unloaded; ledger empty"));
	fm_teardown();
}

TEST(res_dependants_and_unload)
{
	struct fm *p, *c1, *c, *c2;
	char out[128], small[8], e[160];

	fm_setup();
	p = provider("p", 1, 0);
	REQUIRE(p != NULL);
	c1 = client("c1", PB_CARD_ONE, PB_AT_START);
	c = client("c", PB_CARD_ALL, PB_LATER);
	c2 = fm_add("c2", 0);
	REQUIRE(fm_start(c1) == PB_OK && fm_start(c) == PB_OK &&
	    fm_start(c2) == PB_OK);
	REQUIRE(hub_services.connect(c2->m, "tcon", 1, 0, NULL));
	REQUIRE(hub_services.connect(c2->m, "tcon", 1, 0, NULL));
	/* p's own connection to itself does not count. */
	REQUIRE(hub_services.connect(p->m, "tcon", 1, 0, "tcon:p"));
	CHECK_EQ_INT(hub_dependants(p->m, out, sizeof(out)), 3);
	CHECK_STR(out, "c1, c, c2");
	CHECK_EQ_INT(hub_dependants(p->m, small, sizeof(small)), 3);
	CHECK(strlen(small) < sizeof(small));
	CHECK_EQ_INT(hub_dependants(c1->m, out, sizeof(out)), 0);
	CHECK_STR(out, "");

	CHECK_EQ_INT(hub_unload(p->m, e, sizeof(e)), PB_EBUSY);
	CHECK_STR(e, "p is in use by c1, c, c2");
	CHECK_EQ_INT(p->m->state, MOD_RUNNING);
	CHECK_EQ_INT(p->nstop, 0);

	CHECK_EQ_INT(hub_unload(c1->m, e, sizeof(e)), PB_OK);
	CHECK_EQ_INT(hub_unload(c->m, e, sizeof(e)), PB_OK);
	CHECK_EQ_INT(hub_unload(c2->m, e, sizeof(e)), PB_OK);
	CHECK_EQ_INT(hub_dependants(p->m, out, sizeof(out)), 0);
	CHECK_EQ_INT(hub_unload(p->m, e, sizeof(e)), PB_OK);
	CHECK_EQ_INT(p->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(p->nstop, 1);
	CHECK(ledger_empty(p));
	CHECK(fm_log_has("p unloaded; ledger empty"));
	CHECK_EQ_INT(hub_unload(p->m, e, sizeof(e)), PB_EINVAL);
	CHECK_STR(e, "p is not loaded");
	fm_teardown();
}

static char gc_out[256];

static void
gc_line(void *arg, const char *line)
{
	(void)arg;
	snprintf(gc_out, sizeof(gc_out), "%s", line);
}

TEST(res_gc)
{
	struct fm *osm, *fw, *used, *usr, *y, *x, *idle, *plain;

	fm_setup();
	osm = fm_add("osm", 1);			/* the target: kept */
	osm->m->desc.flags = PB_MOD_BOOT;
	fm_serve(osm, "os", "main");
	fw = fm_add("fw", 1);			/* boot, unused: goes */
	fw->m->desc.flags = PB_MOD_BOOT;
	fw->heap_pages = 2;
	fm_serve(fw, "efifb", "fb0");
	used = fm_add("used", 1);		/* boot, in use: kept */
	used->m->desc.flags = PB_MOD_BOOT;
	fm_serve(used, "tcon", "used0");
	usr = client("usr", PB_CARD_ONE, PB_AT_START);	/* kept */
	y = fm_add("y", 1);			/* boot, used by x only */
	y->m->desc.flags = PB_MOD_BOOT;
	y->heap_pages = 1;
	fm_serve(y, "yy", "y0");
	x = fm_add("x", 1);			/* boot, unused: goes, then y */
	x->m->desc.flags = PB_MOD_BOOT;
	fm_require(x, "yy", 1, 0, PB_CARD_ONE, PB_AT_START);
	idle = fm_add("idle", 1);		/* loaded, never started */
	plain = fm_add("plain", 1);		/* running, not boot: kept */
	REQUIRE(fm_start(osm) == PB_OK && fm_start(fw) == PB_OK &&
	    fm_start(used) == PB_OK && fm_start(usr) == PB_OK &&
	    fm_start(y) == PB_OK && fm_start(x) == PB_OK &&
	    fm_start(plain) == PB_OK);
	gc_out[0] = '\0';
	CHECK_EQ_INT(hub_gc("os", gc_line, NULL), 4);
	CHECK_STR(gc_out, "gc: 4 modules unloaded, 12 KiB returned");
	CHECK_EQ_INT(osm->m->state, MOD_RUNNING);
	CHECK_EQ_INT(used->m->state, MOD_RUNNING);
	CHECK_EQ_INT(usr->m->state, MOD_RUNNING);
	CHECK_EQ_INT(plain->m->state, MOD_RUNNING);
	CHECK_EQ_INT(fw->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(x->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(y->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(idle->m->state, MOD_UNLOADED);
	CHECK(ledger_empty(fw) && ledger_empty(x) && ledger_empty(y));
	CHECK_EQ_INT(fw->nstop, 1);
	CHECK(fm_conn_res(usr, 0, 0) == used->res[0]);
	CHECK_EQ_INT(hub_gc("os", NULL, NULL), 0);
	fm_teardown();
}

/* Neither side of a swap in its watch window is collected. */
TEST(res_gc_spares_swap_watch_window)
{
	struct fm *old, *new;
	char e[160];

	fm_setup();
	old = fm_add("old", 1);
	old->m->desc.flags = PB_MOD_BOOT;
	fm_serve(old, "tcon", "old0");
	new = fm_add("new", 2);
	new->m->desc.flags = PB_MOD_BOOT;
	fm_serve(new, "tcon", "new0");
	REQUIRE(fm_start(old) == PB_OK);
	REQUIRE(swap_provider(old->m, new->m, "tcon", e, sizeof(e)) == PB_OK);
	CHECK_EQ_INT(hub_gc("os", NULL, NULL), 0);
	CHECK_EQ_INT(old->m->state, MOD_QUIESCED);
	CHECK_EQ_INT(new->m->state, MOD_RUNNING);
	fm_advance(swap_watch_ns);
	CHECK_EQ_INT(old->m->state, MOD_UNLOADED);
	CHECK_EQ_INT(hub_gc("os", NULL, NULL), 1);	/* now new goes */
	CHECK_EQ_INT(new->m->state, MOD_UNLOADED);
	fm_teardown();
}
