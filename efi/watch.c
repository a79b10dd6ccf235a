/*
 * watch.c - the firmware's timer event the hub's watchdog ticks on before
 * the takeover (struct handoff: fw_watch).
 *
 * The event is EVT_TIMER | EVT_NOTIFY_SIGNAL at TPL_CALLBACK, periodic
 * (UEFI 2.10 §7.1, CreateEvent and SetTimer): the firmware signals it from
 * its timer interrupt, and its notify function runs when the TPL drops
 * below TPL_CALLBACK, that is, on top of whatever the hub (or a module in
 * a guarded call) was running at TPL_APPLICATION.  The tick always
 * returns (hub/x86_64/fwwatch.c).  exit_boot_services closes the event
 * before it reads the memory map, as closing frees pool memory.
 */
#include "stub.h"
#include "../abi/pb.h"

static EFI_EVENT watch_event;
static void (*watch_tick)(void);

static VOID EFIAPI
watch_notify(EFI_EVENT ev, VOID *ctx)
{
	(void)ev;
	(void)ctx;
	watch_tick();
}

void
watch_close(void)
{
	if (!watch_event)
		return;
	bs->SetTimer(watch_event, TimerCancel, 0);
	bs->CloseEvent(watch_event);
	watch_event = NULL;
}

static int
fw_watch(uint32_t period_ms, void (*tick)(void))
{
	EFI_STATUS s;

	if (!stub_booted)
		return PB_ENOTSUP;
	watch_close();
	if (!period_ms || !tick)
		return PB_OK;
	watch_tick = tick;
	s = bs->CreateEvent(EVT_TIMER | EVT_NOTIFY_SIGNAL, TPL_CALLBACK,
	    watch_notify, NULL, &watch_event);
	if (EFI_ERROR(s))
		return PB_EIO;
	/* SetTimer counts in 100 ns units. */
	s = bs->SetTimer(watch_event, TimerPeriodic, period_ms * 10000ull);
	if (EFI_ERROR(s)) {
		watch_close();
		return PB_EIO;
	}
	return PB_OK;
}

void
watch_setup(struct handoff *h)
{
	h->fw_watch = fw_watch;
}
