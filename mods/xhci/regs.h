/*
 * regs.h - the xHCI 1.2 register layout, TRBs and contexts: offsets,
 * bits and in-memory structures, named as the spec names them.
 *
 * Registers (§5): the capability registers at BAR0, the operational ones
 * at CAPLENGTH, the runtime ones at RTSOFF, the doorbells at DBOFF.  Each
 * register is accessed at its own width; a 64-bit register is written as
 * its low then its high dword (§5.1, HARDWARE.md: 32-bit-only hosts).
 */
#ifndef XHCI_REGS_H
#define XHCI_REGS_H

#include <stddef.h>
#include <stdint.h>

/* --- Capability registers (§5.3) --------------------------------------- */

/* CAPLENGTH (8 bits) and HCIVERSION (16 bits at +2) are read as the one
 * dword that holds them, as Linux and OpenBSD do: some controllers answer
 * byte and word reads of these registers wrongly. */
#define CAP_LENGTH_VERSION	0x00
#define CAP_HCSPARAMS1		0x04
#define CAP_HCSPARAMS2		0x08
#define CAP_HCSPARAMS3		0x0c
#define CAP_HCCPARAMS1		0x10
#define CAP_DBOFF		0x14
#define CAP_RTSOFF		0x18
#define CAP_HCCPARAMS2		0x1c

#define CAPLENGTH(v)		((v) & 0xffu)
#define HCIVERSION(v)		((v) >> 16)

/* HCSPARAMS1 (§5.3.3) */
#define HCS1_MAX_SLOTS(v)	((v) & 0xffu)
#define HCS1_MAX_INTRS(v)	(((v) >> 8) & 0x7ffu)
#define HCS1_MAX_PORTS(v)	((v) >> 24)

/* HCSPARAMS2 (§5.3.4): scratchpad buffers, Hi:Lo */
#define HCS2_ERST_MAX(v)	(((v) >> 4) & 0xfu)
#define HCS2_SPB(v)		((((v) >> 21) & 0x1fu) << 5 | ((v) >> 27))

/* HCCPARAMS1 (§5.3.6) */
#define HCC1_AC64		(1u << 0)	/* 64-bit addressing */
#define HCC1_CSZ		(1u << 2)	/* 64-byte contexts */
#define HCC1_PPC		(1u << 3)	/* port power control */
#define HCC1_XECP(v)		((v) >> 16)	/* in dwords from BAR0 */

#define DBOFF_MASK		0xfffffffcu
#define RTSOFF_MASK		0xffffffe0u

/* --- Operational registers (§5.4), from CAPLENGTH ---------------------- */

#define OP_USBCMD		0x00
#define OP_USBSTS		0x04
#define OP_PAGESIZE		0x08
#define OP_DNCTRL		0x14
#define OP_CRCR			0x18	/* 64 bits */
#define OP_DCBAAP		0x30	/* 64 bits */
#define OP_CONFIG		0x38
#define OP_PORTSC(n)		(0x400 + 0x10 * ((n) - 1))	/* n from 1 */

/* USBCMD (§5.4.1) */
#define USBCMD_RS		(1u << 0)	/* Run/Stop */
#define USBCMD_HCRST		(1u << 1)	/* Host Controller Reset */
#define USBCMD_INTE		(1u << 2)	/* Interrupter Enable */
#define USBCMD_HSEE		(1u << 3)	/* Host System Error Enable */

/* USBSTS (§5.4.2) */
#define USBSTS_HCH		(1u << 0)	/* HCHalted */
#define USBSTS_HSE		(1u << 2)	/* Host System Error, RW1C */
#define USBSTS_EINT		(1u << 3)	/* Event Interrupt, RW1C */
#define USBSTS_PCD		(1u << 4)	/* Port Change Detect, RW1C */
#define USBSTS_SRE		(1u << 10)	/* Save/Restore Error, RW1C */
#define USBSTS_CNR		(1u << 11)	/* Controller Not Ready */
#define USBSTS_HCE		(1u << 12)	/* Host Controller Error */
#define USBSTS_RW1C		(USBSTS_HSE | USBSTS_EINT | USBSTS_PCD | \
				 USBSTS_SRE)

#define PAGESIZE_4K		(1u << 0)	/* §5.4.3: bit n = 2^(n+12) */

/* CRCR (§5.4.5) */
#define CRCR_RCS		(1u << 0)	/* Ring Cycle State */
#define CRCR_CS			(1u << 1)	/* Command Stop */
#define CRCR_CA			(1u << 2)	/* Command Abort */
#define CRCR_CRR		(1u << 3)	/* Command Ring Running */
#define CRCR_PTR_MASK		(~0x3full)

#define CONFIG_MAX_SLOTS_EN	0xffu		/* §5.4.7 */

/* PORTSC (§5.4.8) */
#define PORTSC_CCS		(1u << 0)	/* Current Connect Status, RO */
#define PORTSC_PED		(1u << 1)	/* Port Enabled, RW1CS: 1 disables */
#define PORTSC_OCA		(1u << 3)	/* Over-current Active, RO */
#define PORTSC_PR		(1u << 4)	/* Port Reset, RW1S */
#define PORTSC_PLS_SHIFT	5		/* Port Link State, RWS */
#define PORTSC_PLS_MASK		(0xfu << PORTSC_PLS_SHIFT)
#define PORTSC_PP		(1u << 9)	/* Port Power, RWS */
#define PORTSC_SPEED_SHIFT	10		/* Port Speed (a PSIV), RO */
#define PORTSC_SPEED_MASK	(0xfu << PORTSC_SPEED_SHIFT)
#define PORTSC_PIC_MASK		(3u << 14)	/* Port Indicator, RWS */
#define PORTSC_LWS		(1u << 16)	/* Link State Write Strobe */
#define PORTSC_CSC		(1u << 17)	/* the change bits, RW1C */
#define PORTSC_PEC		(1u << 18)
#define PORTSC_WRC		(1u << 19)
#define PORTSC_OCC		(1u << 20)
#define PORTSC_PRC		(1u << 21)
#define PORTSC_PLC		(1u << 22)
#define PORTSC_CEC		(1u << 23)
#define PORTSC_CAS		(1u << 24)	/* Cold Attach Status, RO */
#define PORTSC_WAKE_MASK	(7u << 25)	/* WCE WDE WOE, RWS */
#define PORTSC_DR		(1u << 30)	/* Device Removable, RO */
#define PORTSC_WPR		(1u << 31)	/* Warm Port Reset, RW1S */
#define PORTSC_CHANGES		(PORTSC_CSC | PORTSC_PEC | PORTSC_WRC | \
				 PORTSC_OCC | PORTSC_PRC | PORTSC_PLC | \
				 PORTSC_CEC)
/* What a write must give back unchanged: the RO and RWS bits.  Change
 * bits, PED, PR, LWS and WPR are written 0 unless meant (writing PED=1
 * disables the port). */
#define PORTSC_KEEP		(PORTSC_CCS | PORTSC_OCA | PORTSC_PLS_MASK | \
				 PORTSC_PP | PORTSC_SPEED_MASK | \
				 PORTSC_PIC_MASK | PORTSC_WAKE_MASK | \
				 PORTSC_CAS | PORTSC_DR)
#define PORTSC_PLS(v)		(((v) & PORTSC_PLS_MASK) >> PORTSC_PLS_SHIFT)
#define PORTSC_SPEED(v)		(((v) & PORTSC_SPEED_MASK) >> \
				 PORTSC_SPEED_SHIFT)

/* Port link states (§5.4.8, PLS) */
#define PLS_U0			0
#define PLS_U3			3
#define PLS_DISABLED		4
#define PLS_RX_DETECT		5
#define PLS_INACTIVE		6
#define PLS_POLLING		7
#define PLS_COMPLIANCE		10

/* --- Runtime registers (§5.5), from RTSOFF ----------------------------- */

#define RT_MFINDEX		0x00
#define RT_IR(n)		(0x20 + 0x20 * (n))	/* interrupter n */
#define IR_IMAN			0x00
#define IR_IMOD			0x04
#define IR_ERSTSZ		0x08
#define IR_ERSTBA		0x10	/* 64 bits */
#define IR_ERDP			0x18	/* 64 bits */

#define IMAN_IP			(1u << 0)	/* Interrupt Pending, RW1C */
#define IMAN_IE			(1u << 1)	/* Interrupt Enable */
#define ERDP_EHB		(1u << 3)	/* Event Handler Busy, RW1C */
#define ERDP_PTR_MASK		(~0xfull)

/* --- Doorbells (§5.6) -------------------------------------------------- */

#define DB(n)			(4 * (n))	/* 0: the controller's */

/* --- Extended capabilities (§7) ---------------------------------------- */

#define XECP_ID(v)		((v) & 0xffu)
#define XECP_NEXT(v)		(((v) >> 8) & 0xffu)	/* in dwords */
#define XECP_LEGACY		1
#define XECP_PROTOCOL		2

/* USB Legacy Support (§7.1): USBLEGSUP at +0, USBLEGCTLSTS at +4 */
#define USBLEGSUP_BIOS_OWNED	(1u << 16)
#define USBLEGSUP_OS_OWNED	(1u << 24)
#define USBLEGCTLSTS		4
/* The SMI enables (USB SMI, Host System Error, OS Ownership, PCI Command,
 * BAR) and the RO bits cleared; the RsvdP bits kept. */
#define LEGCTL_KEEP		((7u << 1) | (0xffu << 5) | (7u << 17))
#define LEGCTL_RW1C		(7u << 29)	/* SMI on OS own., PCI cmd, BAR */
/* The SMI enables: USB SMI (0), SMI on Host System Error (4), on OS
 * Ownership Change (13), on PCI Command (14), on BAR (15). */
#define LEGCTL_SMI_ENABLES	0x0000e011u

/* Supported Protocol (§7.2) */
#define PROTO_MAJOR(v)		((v) >> 24)		/* dword 0 */
#define PROTO_NAME_USB		0x20425355u		/* dword 1: "USB " */
#define PROTO_PORT_OFF(v)	((v) & 0xffu)		/* dword 2 */
#define PROTO_PORT_COUNT(v)	(((v) >> 8) & 0xffu)
#define PROTO_PSIC(v)		((v) >> 28)
#define PROTO_SLOT_TYPE(v)	((v) & 0x1fu)		/* dword 3 */
#define PSI_PSIV(v)		((v) & 0xfu)		/* PSI dwords */
#define PSI_PSIE(v)		(((v) >> 4) & 3u)	/* b, Kb, Mb, Gb/s */
#define PSI_PLT(v)		(((v) >> 6) & 3u)	/* 0 symmetric */
#define PSI_PSIM(v)		((v) >> 16)

/* Default Protocol Speed IDs when PSIC is 0 (§7.2.2.1.1, Table 7-13) */
#define PSIV_FULL		1
#define PSIV_LOW		2
#define PSIV_HIGH		3
#define PSIV_SUPER		4
#define PSIV_SUPER_PLUS		5

/* --- TRBs (§4.11, §6.4) ------------------------------------------------- */

struct xhci_trb {
	uint64_t param;
	uint32_t status;
	uint32_t control;
};
_Static_assert(sizeof(struct xhci_trb) == 16, "TRB layout");
_Static_assert(offsetof(struct xhci_trb, control) == 12, "TRB layout");

#define TRB_C			(1u << 0)	/* Cycle */
#define TRB_TC			(1u << 1)	/* Link: Toggle Cycle */
#define TRB_ENT			(1u << 1)
#define TRB_ISP			(1u << 2)	/* Interrupt on Short Packet */
#define TRB_ED			(1u << 2)	/* event: Event Data */
#define TRB_CH			(1u << 4)	/* Chain */
#define TRB_IOC			(1u << 5)	/* Interrupt On Completion */
#define TRB_IDT			(1u << 6)	/* Immediate Data */
#define TRB_BSR			(1u << 9)	/* Address Device: Block SET_ADDRESS */
#define TRB_DC			(1u << 9)	/* Configure Endpoint: Deconfigure */
#define TRB_TSP			(1u << 9)	/* Reset Endpoint: Transfer State
						 * Preserve (soft retry, §4.6.8.1) */
#define TRB_DIR_IN		(1u << 16)	/* Data/Status Stage */
#define TRB_TYPE_SHIFT		10
#define TRB_TYPE(c)		(((c) >> TRB_TYPE_SHIFT) & 0x3fu)
#define TRB_TYPE_SET(t)		((uint32_t)(t) << TRB_TYPE_SHIFT)
#define TRB_TRT_SHIFT		16		/* Setup Stage: Transfer Type */
#define TRT_NO_DATA		0
#define TRT_OUT			2
#define TRT_IN			3
#define TRB_EP_SHIFT		16		/* commands, events: Endpoint ID */
#define TRB_EP(c)		(((c) >> TRB_EP_SHIFT) & 0x1fu)
#define TRB_SLOT_SHIFT		24		/* commands, events: Slot ID */
#define TRB_SLOT(c)		((c) >> TRB_SLOT_SHIFT)
#define TRB_SLOT_TYPE_SHIFT	16		/* Enable Slot */
#define TRB_LEN_MASK		0x1ffffu	/* transfer TRBs: length */
#define TRB_TD_SIZE_SHIFT	17		/* ... TD Size */
#define TRB_TD_SIZE_MAX		31u
#define TRB_MAX_BUF		65536u		/* bytes a TRB may carry (§4.11.7.1) */

/* status of event TRBs (§6.4.2) */
#define EV_CC(s)		((s) >> 24)	/* Completion Code */
#define EV_LEN(s)		((s) & 0xffffffu)	/* residual, or EDTLA */
#define EV_PORT(param)		((uint32_t)(param) >> 24)	/* Port ID */

enum trb_type {
	TRB_NORMAL = 1,
	TRB_SETUP = 2,
	TRB_DATA = 3,
	TRB_STATUS = 4,
	TRB_LINK = 6,
	TRB_EVENT_DATA = 7,
	TRB_NOOP = 8,
	/* commands (§6.4.3) */
	TRB_ENABLE_SLOT = 9,
	TRB_DISABLE_SLOT = 10,
	TRB_ADDRESS_DEVICE = 11,
	TRB_CONFIGURE_EP = 12,
	TRB_EVALUATE_CTX = 13,
	TRB_RESET_EP = 14,
	TRB_STOP_EP = 15,
	TRB_SET_TR_DEQ = 16,
	TRB_NOOP_CMD = 23,
	/* events (§6.4.2) */
	TRB_EV_TRANSFER = 32,
	TRB_EV_COMMAND = 33,
	TRB_EV_PORT = 34,
	TRB_EV_BANDWIDTH = 35,
	TRB_EV_DOORBELL = 36,
	TRB_EV_HOST = 37,
	TRB_EV_DEVICE = 38,
	TRB_EV_MFINDEX = 39,
};

/* Completion codes (§6.4.5) */
enum trb_cc {
	CC_INVALID = 0,
	CC_SUCCESS = 1,
	CC_DATA_BUFFER = 2,
	CC_BABBLE = 3,
	CC_TRANSACTION = 4,
	CC_TRB = 5,
	CC_STALL = 6,
	CC_RESOURCE = 7,
	CC_BANDWIDTH = 8,
	CC_NO_SLOTS = 9,
	CC_SLOT_NOT_ENABLED = 11,
	CC_EP_NOT_ENABLED = 12,
	CC_SHORT_PACKET = 13,
	CC_PARAMETER = 17,
	CC_CONTEXT_STATE = 19,
	CC_EVENT_RING_FULL = 21,
	CC_CMD_RING_STOPPED = 24,
	CC_CMD_ABORTED = 25,
	CC_STOPPED = 26,
	CC_STOPPED_LEN_INVALID = 27,
	CC_STOPPED_SHORT = 28,
	CC_SPLIT_TRANSACTION = 36,
};

/* Event Ring Segment Table entry (§6.5) */
struct xhci_erst {
	uint64_t base;
	uint32_t size;		/* TRBs, 16-4096 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct xhci_erst) == 16, "ERST entry layout");

/* --- Contexts (§6.2): 32 bytes each, or 64 with HCCPARAMS1.CSZ ---------- */

/* Slot Context (§6.2.2), dwords */
#define SLOT_ROUTE_MASK		0xfffffu		/* dword 0 */
#define SLOT_SPEED_SHIFT	20
#define SLOT_MTT		(1u << 25)
#define SLOT_HUB		(1u << 26)
#define SLOT_ENTRIES_SHIFT	27
#define SLOT_ROOT_PORT_SHIFT	16			/* dword 1 */
#define SLOT_NPORTS_SHIFT	24
#define SLOT_TT_SLOT_SHIFT	0			/* dword 2 */
#define SLOT_TT_PORT_SHIFT	8
#define SLOT_TTT_SHIFT		16
#define SLOT_STATE(d3)		((d3) >> 27)		/* dword 3 */

/* Endpoint Context (§6.2.3), dwords */
#define EP_STATE(d0)		((d0) & 7u)		/* dword 0 */
#define EP_MULT_SHIFT		8
#define EP_INTERVAL_SHIFT	16
#define EP_ESIT_HI_SHIFT	24
#define EP_CERR_SHIFT		1			/* dword 1 */
#define EP_TYPE_SHIFT		3
#define EP_BURST_SHIFT		8
#define EP_MPS_SHIFT		16
#define EP_DCS			1u			/* dword 2 */
#define EP_ESIT_LO_SHIFT	16			/* dword 4 */

enum ep_state {
	EPS_DISABLED = 0, EPS_RUNNING = 1, EPS_HALTED = 2, EPS_STOPPED = 3,
	EPS_ERROR = 4,
};

enum ep_type {
	EPT_ISOCH_OUT = 1, EPT_BULK_OUT = 2, EPT_INTR_OUT = 3, EPT_CONTROL = 4,
	EPT_ISOCH_IN = 5, EPT_BULK_IN = 6, EPT_INTR_IN = 7,
};

/* Input Control Context (§6.2.5.1): dword 0 drop flags, dword 1 add. */
#define ICC_DROP		0
#define ICC_ADD			1

#define CTX_ENTRIES		32	/* slot + 31 endpoints (DCI 1-31) */
#define CTX_DWORDS		8	/* dwords the driver writes of each */

/* Alignment and boundaries (§6.1, Table 6-1) */
#define CTX_ALIGN		64	/* device/input contexts, DCBAA, ERST */
#define RING_ALIGN		64
#define RING_BOUNDARY		65536u	/* no ring segment crosses 64 KiB */
#define PAGE_BOUNDARY		4096u	/* contexts, DCBAA, scratchpad array */

#endif
