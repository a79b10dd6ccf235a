/*
 * test_boot_log.c - the log in the firmware phase (hub/log.c,
 * log_set_direct): the hub writes the boot's steps, module loads and
 * errors on the firmware console itself; the other lines wait, unwritten
 * and unflagged, and go to the reader (or, with none, to the hub's own
 * writer) once the direct writing ends; during the takeover
 * (LOG_DIRECT_ERRORS) only errors are written.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"

static char boot_direct[8192];

static void
boot_sink(const char *s, size_t len, int direct)
{
	size_t n = strlen(boot_direct);

	if (direct && n + len < sizeof(boot_direct)) {
		memcpy(boot_direct + n, s, len);
		boot_direct[n + len] = '\0';
	}
}

static void
boot_nothing(void *arg)
{
	(void)arg;
}

/* The reader's lines, as it takes them, skipping those shown already. */
static void
boot_taken(char *out, size_t cap)
{
	struct log_line l;

	out[0] = '\0';
	while (log_ops.take(NULL, &l) == PB_OK)
		if (!(l.flags & LOG_F_SHOWN) && strlen(out) + strlen(l.text) +
		    2 < cap) {
			strcat(out, l.text);
			strcat(out, ";");
		}
}

TEST(boot_log_firmware_phase_writes_steps_and_holds_details)
{
	struct fm *f;
	struct pb_work w;
	char got[512];

	fm_setup();
	log_set_sink(boot_sink);
	boot_direct[0] = '\0';
	log_set_direct(LOG_DIRECT);
	log_event(LOG_LOAD, "early load");
	log_event(LOG_BIND, "early conn");	/* before the reader watches */
	f = fm_add("reader", 0);
	f->m->state = MOD_RUNNING;
	work_init(f->m, &w, boot_nothing, NULL);
	REQUIRE(log_ops.watch(NULL, &w) == PB_OK);
	log_event(LOG_START, "started");
	log_event(LOG_ERROR, "broken");
	log_set_direct(LOG_DIRECT_ERRORS);
	log_event(LOG_LOAD, "takeover load");
	log_event(LOG_ERROR, "takeover error");
	CHECK_CONTAINS(boot_direct, "] early load\n");
	CHECK_CONTAINS(boot_direct, "] error: broken\n");
	CHECK_CONTAINS(boot_direct, "] error: takeover error\n");
	CHECK(!strstr(boot_direct, "conn") && !strstr(boot_direct, "started") &&
	    !strstr(boot_direct, "takeover load"));
	/* Not posted meanwhile; ending the direct writing posts it. */
	CHECK(!w.queued);
	log_set_direct(0);
	CHECK(w.queued);
	boot_taken(got, sizeof(got));
	CHECK_STR(got, "early conn;started;takeover load;");
	log_ops.watch(NULL, NULL);	/* given back */
	work_cancel(&w);
	log_set_sink(NULL);
	fm_teardown();
}

/* No reader came (a target without the shell): the hub writes the held
 * lines itself when the direct writing ends, in order. */
TEST(boot_log_held_lines_written_by_the_hub_without_a_reader)
{
	fm_setup();
	log_set_sink(boot_sink);
	boot_direct[0] = '\0';
	log_set_direct(LOG_DIRECT);
	log_event(LOG_BIND, "one");
	log_event(LOG_LOAD, "two");
	log_event(LOG_START, "three");
	CHECK(!strstr(boot_direct, "one") && strstr(boot_direct, "two"));
	log_set_direct(0);
	CHECK(strstr(boot_direct, "two") < strstr(boot_direct, "one"));
	CHECK(strstr(boot_direct, "one") < strstr(boot_direct, "three"));
	log_set_sink(NULL);
	fm_teardown();
}
