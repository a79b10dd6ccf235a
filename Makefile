# Patchbay: `make` builds everything into build/, `make image` the disk
# image, `make run` boots it, `make test` runs every test, `make bench` the
# benchmarks.  PE32+ images come straight from clang + lld-link.

B := build
# V=1 shows every command.
Q := $(if $(V),,@)
CLANG ?= clang
LLD_LINK ?= lld-link
HOSTCC ?= cc

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
PE_CFLAGS := --target=x86_64-unknown-windows -std=c11 -O2 -g0 $(WARN) \
	-ffreestanding -fno-builtin -fshort-wchar -mno-red-zone \
	-fno-stack-protector -mno-stack-arg-probe -fno-asynchronous-unwind-tables \
	-MMD -MP
# The hub and the modules take interrupts at any instruction and do not
# save vector registers: general-purpose registers only.
KERN_CFLAGS := $(PE_CFLAGS) -mgeneral-regs-only -mcmodel=small
# The hub is optimised for size: it must stay small (a .text budget of
# 32 KiB), and nothing in it is a hot loop the way module code can be.
HUB_CFLAGS := $(KERN_CFLAGS) -Oz -ffunction-sections -fdata-sections
EFI_CFLAGS := $(PE_CFLAGS) -mgeneral-regs-only -I/usr/include/efi \
	-I/usr/include/efi/x86_64
LDFLAGS_PE := -nodefaultlib -machine:x64 -debug:none -opt:ref

HOST_CFLAGS := -std=c11 -g -O1 $(WARN) -DPB_HOSTED -D_DEFAULT_SOURCE -MMD -MP
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

RT_SRCS := $(wildcard abi/rt/*.c)
# boot.c is the policy that glues the hub to the handoff and the CPU; every
# other hub/*.c is portable and is also compiled into the host tests.
HUB_PORT_SRCS := $(wildcard hub/*.c)
HUB_HOST_SRCS := $(filter-out hub/boot.c,$(HUB_PORT_SRCS))
HUB_ARCH_SRCS := $(wildcard hub/x86_64/*.c) $(wildcard hub/x86_64/*.S)
EFI_SRCS := $(wildcard efi/*.c) hub/pe.c abi/rt/string.c abi/rt/util.c \
	abi/rt/fmt.c

# Modules: every mods/NAME/mod.mk adds NAME to MODULES.
MODULES :=
include $(wildcard mods/*/mod.mk)
TEST_MODULES :=
include $(wildcard tests/mods/*/mod.mk)

obj = $(patsubst %,$(B)/obj/$(1)/%.o,$(basename $(2)))

STUB := $(B)/esp/EFI/BOOT/BOOTX64.EFI
HUB := $(B)/esp/patchbay/hub.pe
MOD_FILES := $(patsubst %,$(B)/mods/%.mod,$(MODULES))
TEST_MOD_FILES := $(patsubst %,$(B)/test-mods/%.mod,$(TEST_MODULES))
IMAGE := $(B)/patchbay.img
TOOLS := $(B)/tools/modinfo $(B)/tools/depgraph

.PHONY: all image run test bench fuzz clean usb deps host-tests
all: $(STUB) $(HUB) $(MOD_FILES) $(TEST_MOD_FILES) $(TOOLS)

# --- the stub --------------------------------------------------------------
$(B)/obj/efi/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(efi)  $<"
	$(Q)$(CLANG) $(EFI_CFLAGS) -c $< -o $@

$(STUB): $(call obj,efi,$(EFI_SRCS))
	@mkdir -p $(@D)
	@echo "  LINK     $@"
	$(Q)$(LLD_LINK) $(LDFLAGS_PE) -subsystem:efi_application -entry:efi_main \
		-out:$@ -implib:$(B)/obj/$(@F).lib $^

# --- the hub ---------------------------------------------------------------
# The inventory's listings are the shell's (abi/rt/inventory.c), not the hub's.
HUB_RT_SRCS := $(filter-out abi/rt/inventory.c,$(RT_SRCS))
HUB_OBJS := $(call obj,hub,$(HUB_PORT_SRCS) $(HUB_ARCH_SRCS) $(HUB_RT_SRCS))
$(B)/obj/hub/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(hub)  $<"
	$(Q)$(CLANG) $(HUB_CFLAGS) -c $< -o $@
$(B)/obj/hub/%.o: %.S
	@mkdir -p $(@D)
	@echo "  AS(hub)  $<"
	$(Q)$(CLANG) --target=x86_64-unknown-windows -MMD -MP -c $< -o $@

$(HUB): $(HUB_OBJS)
	@mkdir -p $(@D)
	@echo "  LINK     $@"
	$(Q)$(LLD_LINK) $(LDFLAGS_PE) -dll -entry:hub_entry -subsystem:native \
		-out:$@ -implib:$(B)/obj/$(@F).lib $^

# --- modules ---------------------------------------------------------------
# Modules are built for size: an image is memory a bound driver holds
# for as long as it runs (issue 16 budgets the bound drivers at 206 KB), and
# -Oz costs nothing measurable on the block and file read rates, where the
# time goes to the device and DMA, not to module code.  A section of its
# own per function and object lets -opt:ref drop what a module does not
# use, of its own code and of the runtime every module links (the font).
MOD_CFLAGS := $(KERN_CFLAGS) -Oz -ffunction-sections -fdata-sections
$(B)/obj/mod/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC(mod)  $<"
	$(Q)$(CLANG) $(MOD_CFLAGS) -c $< -o $@

# In-tree modules format with the hub's formatter (abi/rt/thin/fmt.c);
# test modules keep fmt.c, as out-of-tree modules built with the SDK do.
MOD_RT_OBJS := $(call obj,mod,$(filter-out abi/rt/fmt.c,$(RT_SRCS)) \
	abi/rt/thin/fmt.c)
TEST_RT_OBJS := $(call obj,mod,$(RT_SRCS))
# Read-only data goes after the descriptor in .modinfo (both read-only; the
# descriptor stays first, where the hub reads it): one page less per module
# than a .rdata section of its own.
LDFLAGS_MOD := $(LDFLAGS_PE) -dll -noentry -subsystem:native \
	-merge:.rdata=.modinfo
define module_rule
$(2)/$(1).mod: $(call obj,mod,$(wildcard $(3)/$(1)/*.c)) $(4)
	@mkdir -p $$(@D)
	@echo "  LINK     $$@"
	$(Q)$(LLD_LINK) $(LDFLAGS_MOD) -out:$$@ -implib:$(B)/obj/$$(@F).lib $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m),$(B)/mods,mods,$(MOD_RT_OBJS))))
$(foreach m,$(TEST_MODULES),$(eval $(call module_rule,$(m),$(B)/test-mods,tests/mods,$(TEST_RT_OBJS))))

# --- host tools ------------------------------------------------------------
HOST_PORT_SRCS := hub/pe.c abi/rt/util.c abi/rt/fmt.c
# One compile of several sources leaves an incomplete .d: name the headers.
TOOL_HDRS := $(wildcard abi/*.h abi/rt/*.h hub/*.h)
$(B)/tools/modinfo: tools/modinfo.c tools/slurp.c $(HOST_PORT_SRCS) $(TOOL_HDRS)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^)
$(B)/tools/depgraph: tools/depgraph.c tools/slurp.c $(HOST_PORT_SRCS) $(TOOL_HDRS)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^)

# --- the console font ------------------------------------------------------
# A PSF font from Debian's console-setup-linux (tools/install-deps), turned
# into C at build time by tools/mkfont: every glyph for fbcon, printable
# ASCII for the hub's own screen text (abi/rt/font.h).  Never committed.
FONT_PSF ?= /usr/share/consolefonts/Uni2-Terminus16.psf.gz
FONT_GEN := $(B)/gen/font_console.c $(B)/gen/font_ascii.c
.SECONDARY: $(FONT_GEN)	# kept: the host tests include them too
$(B)/tools/mkfont: tools/mkfont.c tools/psf.c tools/psf.h tools/slurp.c \
		tools/slurp.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^)
$(FONT_PSF):
	@echo "error: no console font $@: run tools/install-deps" \
		"(package console-setup-linux), or set FONT_PSF" >&2; exit 1
$(B)/gen/font.psf: $(FONT_PSF)
	@mkdir -p $(@D)
	gzip -dcf $< > $@.tmp && mv $@.tmp $@
$(B)/gen/font_%.c: $(B)/gen/font.psf $(B)/tools/mkfont
	$(B)/tools/mkfont $* $< $(abspath abi/rt/font.h) > $@.tmp && mv $@.tmp $@
$(B)/mods/fbcon.mod: $(B)/obj/mod/$(B)/gen/font_console.o
$(HUB): $(B)/obj/hub/$(B)/gen/font_ascii.o

# --- the image -------------------------------------------------------------
ESP_STAGE := $(B)/esp
image: $(IMAGE)
$(IMAGE): $(STUB) $(HUB) $(MOD_FILES) fs-image/boot.cfg tools/mkimage
	@mkdir -p $(ESP_STAGE)/patchbay/mods
	rm -f $(ESP_STAGE)/patchbay/mods/*.mod
	$(if $(MOD_FILES),cp $(MOD_FILES) $(ESP_STAGE)/patchbay/mods/)
	cp fs-image/boot.cfg $(ESP_STAGE)/patchbay/boot.cfg
	tools/mkimage $@ $(ESP_STAGE)

deps:
	@tools/install-deps --check >/dev/null 2>&1 || tools/install-deps

run: deps
	$(MAKE) image
	tools/qemu-run --config $(or $(CONFIG),default) --image $(IMAGE)

usb: image
	@test -n "$(DEV)" || { echo "error: usage: make usb DEV=/dev/sdX"; exit 1; }
	YES=$(YES) tools/usb-write $(IMAGE) $(DEV)

# --- tests -----------------------------------------------------------------
# tests/host/test_*.c test the hub: one binary with its portable sources.
# tests/host/mod_NAME.c test a module's pure logic by including its files:
# one binary each, since modules may use the same names.
HOST_TEST_SRCS := $(wildcard tests/host/test_*.c) tests/host/main.c \
	tests/host/fake_arch.c tests/host/fakemod.c tests/host/fake_guard.c \
	hub/x86_64/guardseal.c tools/slurp.c $(HUB_HOST_SRCS) \
	abi/rt/util.c abi/rt/fmt.c abi/rt/font.c abi/rt/logfmt.c \
	abi/rt/inventory.c abi/rt/setting.c abi/rt/sum64.c \
	$(B)/gen/font_ascii.c
$(B)/tests/host-tests: $(HOST_TEST_SRCS)
	@mkdir -p $(@D)
	@echo "  HOSTCC   $@"
	$(Q)$(CLANG) $(HOST_CFLAGS) $(SAN) -o $@ $(HOST_TEST_SRCS)

MOD_TESTS := $(patsubst tests/host/mod_%.c,$(B)/tests/mod_%,\
	$(wildcard tests/host/mod_*.c))
$(B)/tests/mod_%: tests/host/mod_%.c tests/host/main.c abi/rt/util.c \
		abi/rt/fmt.c $(wildcard mods/*/*.c mods/*/*.h tests/host/*.h) \
		efi/devpath.c efi/devpath.h efi/fbfit.c efi/fbfit.h \
		$(wildcard abi/rt/*.c abi/rt/*.h) $(FONT_GEN) tools/psf.c tools/psf.h
	@mkdir -p $(@D)
	@echo "  HOSTCC   $@"
	$(Q)$(CLANG) $(HOST_CFLAGS) $(SAN) -I$(B)/gen -DPB_GEN_DIR=\"$(B)/gen\" \
		-o $@ $< tests/host/main.c \
		abi/rt/util.c abi/rt/fmt.c abi/rt/utf8.c abi/rt/sum64.c

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/*.c))
# Each fuzz target names the hub file it exercises: fuzz_pe -> hub/pe.c.
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c hub/%.c abi/rt/util.c abi/rt/fmt.c
	@mkdir -p $(@D)
	$(CLANG) $(HOST_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^
# fuzz_match also reads settings as a module does.
$(B)/fuzz/fuzz_match: abi/rt/setting.c
# A module's fuzz target includes the module's own .c files:
# fuzzmod_NAME.c -> mods/NAME/.
$(B)/fuzz/fuzzmod_%: tests/fuzz/fuzzmod_%.c $(wildcard mods/*/*.c mods/*/*.h) \
		efi/devpath.c efi/devpath.h $(wildcard tests/host/*.h) abi/rt/util.c \
		abi/rt/fmt.c tools/psf.c tools/psf.h
	@mkdir -p $(@D)
	$(CLANG) $(HOST_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		abi/rt/util.c abi/rt/fmt.c abi/rt/utf8.c abi/rt/sum64.c

FUZZ_SECONDS ?= 20
test: deps
	$(MAKE) all image $(B)/tests/host-tests $(MOD_TESTS) $(FUZZ_TARGETS)
	tests/run "PB_WRITE_BROKEN=1 $(B)/tests/host-tests" \
		$(foreach t,$(MOD_TESTS),"$(t)") \
		"tests/deps/check-deps.py" \
		"tests/image/check-image $(IMAGE)" \
		"tests/fuzz/run $(FUZZ_SECONDS)" \
		"tests/scenario/selftest.py --no-real" \
		"tests/scenario/run"

fuzz: $(FUZZ_TARGETS)
	tests/fuzz/run $(or $(SECONDS),600)

bench: deps
	$(MAKE) all image
	tests/bench/run

# The hub's .text against its 32 KiB budget (issue 16).  Not part of
# `make test` while the hub is over it; `make bench` shows where it goes.
.PHONY: hub-size
hub-size: $(HUB)
	tests/size/check-hub-size $(HUB)

# The out-of-tree module SDK: build/patchbay-sdk.tar.gz (sdk/README.md).
SDK_STAGE := $(B)/sdk/patchbay-sdk
SDK_FILES := $(wildcard abi/*.h abi/rt/*.h abi/rt/*.c) hub/pe.c hub/pe.h \
	hub/pe_format.h tools/modinfo.c tools/slurp.c tools/slurp.h
.PHONY: sdk
sdk: $(B)/patchbay-sdk.tar.gz
$(B)/patchbay-sdk.tar.gz: $(SDK_FILES) $(wildcard sdk/* sdk/example/*)
	rm -rf $(SDK_STAGE)
	mkdir -p $(SDK_STAGE)
	tar cf - $(SDK_FILES) | tar xf - -C $(SDK_STAGE)
	cp -R sdk/. $(SDK_STAGE)/
	tar czf $@ -C $(B)/sdk patchbay-sdk

# The swaps people come for, under QEMU: build/demo/ (tools/demo).
.PHONY: demo
demo: deps
	$(MAKE) all image
	tools/demo

# The boot as a timeline, one row per module: build/bootchart.svg.
.PHONY: bootchart
bootchart: deps
	$(MAKE) all image
	tools/bootchart

# The README's two commands on a fresh Debian 12 root (debootstrap, then only
# git and make): needs root and a few minutes, so not part of make test.
.PHONY: fresh-check
fresh-check:
	tools/fresh-check

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
