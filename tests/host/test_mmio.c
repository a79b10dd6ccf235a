/*
 * test_mmio.c - abi/mmio.h's real accessors and barriers, compiled for
 * the host (PB_HOSTED is undone here, so this file gets the inline asm a
 * module gets; x86-64 hosts only).
 *
 * What it proves: every access moves exactly its own width at its own
 * address with the right value (the asm operands are right), the three
 * barriers exist and execute, and, by compiling a snippet as a module is
 * compiled and reading the assembly, that the compiler neither drops nor
 * moves memory stores across an access and that the barriers are the
 * fences the header names.  What it cannot prove: the CPU's ordering on
 * the bus; that is the SDM's promise the header cites.
 */
#undef PB_HOSTED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "../../abi/mmio.h"

#if defined(__x86_64__)

static uint8_t regs[32] __attribute__((aligned(8)));

TEST(mmio_accesses_have_their_own_width)
{
	memset(regs, 0xee, sizeof(regs));
	mmio_write8(regs + 1, 0x12);
	mmio_write16(regs + 2, 0x3456);
	mmio_write32(regs + 4, 0x789abcdeu);
	mmio_write64(regs + 8, 0x0123456789abcdefull);
	CHECK_EQ_INT(regs[0], 0xee);
	CHECK_EQ_INT(regs[1], 0x12);
	CHECK_EQ_INT(regs[2], 0x56);
	CHECK_EQ_INT(regs[3], 0x34);
	CHECK_EQ_INT(regs[4], 0xde);
	CHECK_EQ_INT(regs[7], 0x78);
	CHECK_EQ_INT(regs[8], 0xef);
	CHECK_EQ_INT(regs[15], 0x01);
	CHECK_EQ_INT(regs[16], 0xee);
	CHECK_EQ_INT(mmio_read8(regs + 1), 0x12);
	CHECK_EQ_INT(mmio_read16(regs + 2), 0x3456);
	CHECK_EQ_INT(mmio_read32(regs + 4), 0x789abcdeu);
	CHECK(mmio_read64(regs + 8) == 0x0123456789abcdefull);
}

/*
 * A descriptor written with plain stores, then a barrier and a doorbell:
 * the order a driver uses.  `desc` is changed by a "device" (the doorbell
 * write's side effect is modelled by the test reading it after), so all
 * this shows at run time is that the sequence compiles and runs; the
 * "memory" clobber is what keeps the compiler from sinking the stores
 * below the doorbell, which the generated code shows.
 */
static uint32_t desc[4];

static void
ring(volatile void *doorbell, uint32_t addr)
{
	desc[0] = addr;
	desc[1] = 512;
	mmio_wmb();
	mmio_write32(doorbell, 1);
	mmio_rmb();
	mmio_mb();
}

TEST(mmio_barriers_exist_and_run)
{
	memset(regs, 0, sizeof(regs));
	ring(regs, 0x1000);
	CHECK_EQ_INT(mmio_read32(regs), 1);
	CHECK_EQ_INT(desc[0], 0x1000);
	CHECK_EQ_INT(desc[1], 512);
}

/*
 * An MMIO access is a compiler barrier, checked on the code the module
 * compiler makes: a snippet is compiled the way modules are (clang for
 * the PE target at -O2) and its assembly read.  Without a "memory"
 * clobber clang drops `desc = 1` (dead: overwritten after the doorbell)
 * and may sink stores below it; the device then reads a stale descriptor.
 * The barriers must come out as the fences the header promises.
 */
static const char snippet[] =
    "#include \"abi/mmio.h\"\n"
    "unsigned desc;\n"
    "void dead(volatile void *db) { desc = 1; mmio_write32(db, 1);"
    " desc = 2; }\n"
    "unsigned kept(volatile void *db) { desc = 5; (void)mmio_read32(db);"
    " return desc; }\n"
    "void wmb(void) { mmio_wmb(); }\n"
    "void rmb(void) { mmio_rmb(); }\n"
    "void mb(void) { mmio_mb(); }\n";

/* The assembly of function `fn` in asm (up to the next label line). */
static const char *
body_of(const char *as, const char *fn, char *out, size_t cap)
{
	char label[32];
	const char *p, *e;

	snprintf(label, sizeof(label), "\n%s:", fn);
	if (!(p = strstr(as, label)))
		return NULL;
	p += strlen(label);
	e = strstr(p, "retq");
	if (!e || (size_t)(e - p) >= cap)
		return NULL;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return out;
}

TEST(mmio_accesses_are_compiler_barriers_in_module_code)
{
	static char as[65536];
	char src[] = "/tmp/pb-mmio-XXXXXX.c", cmd[512], fn[2048];
	const char *cc = getenv("CLANG") ? getenv("CLANG") : "clang";
	size_t n = 0;
	FILE *f;
	int fd;

	REQUIRE((fd = mkstemps(src, 2)) >= 0);
	REQUIRE(write(fd, snippet, sizeof(snippet) - 1) ==
	    (ssize_t)sizeof(snippet) - 1);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s --target=x86_64-unknown-windows -O2 "
	    "-ffreestanding -I. -S -o - %s 2>&1", cc, src);
	f = popen(cmd, "r");
	REQUIRE(f != NULL);
	while (n + 1 < sizeof(as) && (fd = fgetc(f)) != EOF)
		as[n++] = (char)fd;
	as[n] = '\0';
	CHECK_EQ_INT(pclose(f), 0);
	unlink(src);
	CHECK_MSG(body_of(as, "dead", fn, sizeof(fn)) &&
	    strstr(fn, "$1, desc(%rip)"), "the store before the doorbell "
	    "was dropped: %s", as);
	CHECK_MSG(body_of(as, "kept", fn, sizeof(fn)) && strstr(fn,
	    "$5, desc(%rip)") && strstr(fn, "desc(%rip), %eax"),
	    "memory not read again after the access: %s", fn);
	CHECK(body_of(as, "wmb", fn, sizeof(fn)) && strstr(fn, "sfence"));
	CHECK(body_of(as, "rmb", fn, sizeof(fn)) && strstr(fn, "lfence"));
	CHECK(body_of(as, "mb", fn, sizeof(fn)) && strstr(fn, "mfence"));
}

#endif
