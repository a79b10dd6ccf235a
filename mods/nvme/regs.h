/*
 * regs.h - an NVMe 1.4 controller as the host sees it: the registers of
 * BAR0 (§3.1), the queue entries (§4.2, §4.6), the commands the driver
 * sends (§5, §6) and the offsets it reads in the Identify data (§5.15).
 * Every structure the controller reads or writes is pinned by a
 * _Static_assert; the Identify data are parsed by offset (identify.c).
 */
#ifndef NVME_REGS_H
#define NVME_REGS_H

#include <stdint.h>

/* --- Controller registers (§3.1), offsets in BAR0 --------------------- */
#define NVME_CAP	0x00	/* 64 bits: read as two dwords, low first */
#define NVME_VS		0x08
#define NVME_INTMS	0x0c	/* not used: never with MSI-X (§3.1.3) */
#define NVME_INTMC	0x10
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28	/* 64 bits: written low dword, then high */
#define NVME_ACQ	0x30	/* 64 bits: likewise */
#define NVME_DBS	0x1000	/* the doorbells (§3.1.24, §3.1.25) */

/* CAP (§3.1.1), as its two dwords. */
#define CAP_MQES(lo)	((lo) & 0xffffu)		/* entries - 1 */
#define CAP_CQR		(1u << 16)	/* contiguous queues only */
#define CAP_TO(lo)	(((lo) >> 24) & 0xffu)	/* in 500 ms units */
#define CAP_DSTRD(hi)	((hi) & 0xfu)		/* stride 4<<DSTRD */
#define CAP_CSS_NVM(hi)	(((hi) >> 5) & 1u)	/* CAP bit 37 */
#define CAP_MPSMIN(hi)	(((hi) >> 16) & 0xfu)	/* 2^(12+n) bytes */
#define CAP_MPSMAX(hi)	(((hi) >> 20) & 0xfu)

/* VS (§3.1.2) */
#define VS_MJR(v)	((v) >> 16)
#define VS_MNR(v)	(((v) >> 8) & 0xffu)
#define VS_1_1		0x00010100u	/* CNS 02h came with 1.1 */

/* CC (§3.1.5) */
#define CC_EN		(1u << 0)
#define CC_CSS_NVM	(0u << 4)
#define CC_MPS_4K	(0u << 7)	/* 2^(12+0): 4 KiB pages */
#define CC_AMS_RR	(0u << 11)	/* round robin */
#define CC_SHN_MASK	(3u << 14)
#define CC_SHN_NORMAL	(1u << 14)	/* shutdown (§7.6.2) */
#define CC_IOSQES	(6u << 16)	/* 2^6 = 64-byte SQ entries */
#define CC_IOCQES	(4u << 20)	/* 2^4 = 16-byte CQ entries */
#define CC_ENABLE	(CC_EN | CC_CSS_NVM | CC_MPS_4K | CC_AMS_RR | \
			 CC_IOSQES | CC_IOCQES)

/* CSTS (§3.1.6) */
#define CSTS_RDY	(1u << 0)
#define CSTS_CFS	(1u << 1)	/* controller fatal status */
#define CSTS_SHST_MASK	(3u << 2)
#define CSTS_SHST_DONE	(2u << 2)	/* shutdown complete */

/* AQA (§3.1.7): sizes - 1 */
#define AQA(sq, cq)	((((uint32_t)(cq) - 1) << 16) | ((uint32_t)(sq) - 1))

/* Doorbell of queue y (§3.1.24, §3.1.25). */
#define DB_SQ(y, dstrd)	(NVME_DBS + (2u * (y)) * (4u << (dstrd)))
#define DB_CQ(y, dstrd)	(NVME_DBS + (2u * (y) + 1u) * (4u << (dstrd)))

#define NVME_PAGE	4096u	/* CC.MPS 0: the memory page size */
#define NVME_PAGE_MASK	(NVME_PAGE - 1)

/* --- Queue entries ------------------------------------------------------ */

/* A submission queue entry (§4.2, Figure 105), 64 bytes. */
struct nvme_sqe {
	uint8_t opc;		/* opcode */
	uint8_t flags;		/* FUSE 1:0, PSDT 7:6 (0: PRPs) */
	uint16_t cid;		/* command identifier */
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "SQ entry layout");
_Static_assert(__builtin_offsetof(struct nvme_sqe, prp1) == 24, "PRP1");
_Static_assert(__builtin_offsetof(struct nvme_sqe, cdw10) == 40, "CDW10");

/* A completion queue entry (§4.6, Figure 121), 16 bytes. */
struct nvme_cqe {
	uint32_t dw0;		/* command specific */
	uint32_t dw1;
	uint16_t sqhd;		/* SQ head pointer */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* P 0, SC 8:1, SCT 11:9, CRD, M, DNR 15 */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQ entry layout");
_Static_assert(__builtin_offsetof(struct nvme_cqe, status) == 14, "status");

#define CQE_PHASE	0x1u
#define STATUS(s)	((uint16_t)((s) >> 1))	/* without the phase */
#define STATUS_SC(st)	((st) & 0xffu)
#define STATUS_SCT(st)	(((st) >> 8) & 0x7u)
#define STATUS_DNR(st)	(((st) >> 14) & 0x1u)

/* Status codes (§4.6.1.2): generic command status (SCT 0). */
#define SCT_GENERIC		0
#define SCT_MEDIA		2
#define SC_SUCCESS		0x00
#define SC_INVALID_OPCODE	0x01
#define SC_INVALID_FIELD	0x02
#define SC_INVALID_NS		0x0b
#define SC_LBA_RANGE		0x80	/* LBA out of range */
#define SC_CAPACITY		0x81	/* capacity exceeded */

/* --- Commands ------------------------------------------------------------- */

/* Admin (§5, Figure 139) */
#define ADM_DELETE_SQ	0x00
#define ADM_CREATE_SQ	0x01
#define ADM_DELETE_CQ	0x04
#define ADM_CREATE_CQ	0x05
#define ADM_IDENTIFY	0x06
#define ADM_SET_FEATURES 0x09

/* Identify CNS (§5.15.1, Figure 244) */
#define CNS_NS		0x00	/* Identify Namespace, for NSID */
#define CNS_CTRL	0x01	/* Identify Controller */
#define CNS_NS_LIST	0x02	/* active NSIDs above NSID */

#define FID_NQUEUES	0x07	/* Number of Queues (§5.21.1.7) */

/* Create I/O CQ CDW11 (§5.3) and SQ CDW11 (§5.4) */
#define CQ_PC		(1u << 0)	/* physically contiguous */
#define CQ_IEN		(1u << 1)	/* interrupts enabled */
#define SQ_PC		(1u << 0)

/* NVM command set (§6, Figure 346) */
#define NVM_FLUSH	0x00
#define NVM_WRITE	0x01
#define NVM_READ	0x02
#define RW_FUA		(1u << 30)	/* CDW12: force unit access */

/* --- Identify data: the offsets read (§5.15.2) ------------------------- */
#define ID_DATA_SIZE	4096u

/* Identify Controller (Figure 247) */
#define IDC_SN		4	/* 20 bytes ASCII */
#define IDC_SN_LEN	20
#define IDC_MN		24	/* 40 bytes ASCII */
#define IDC_MN_LEN	40
#define IDC_FR		64	/* 8 bytes ASCII */
#define IDC_FR_LEN	8
#define IDC_MDTS	77	/* 2^n minimum pages, 0: no limit */
#define IDC_VER		80
#define IDC_SQES	512	/* required 3:0, maximum 7:4 (log2) */
#define IDC_CQES	513
#define IDC_NN		516	/* highest namespace ID */
#define IDC_VWC		525	/* bit 0: a volatile write cache */

/* Identify Namespace (Figure 245) */
#define IDN_NSZE	0	/* blocks */
#define IDN_NCAP	8
#define IDN_NLBAF	25	/* formats - 1 */
#define IDN_FLBAS	26	/* format in use 3:0, metadata at end 4 */
#define IDN_LBAF	128	/* 16 formats of 4 bytes */
#define LBAF_MS(f)	((f) & 0xffffu)		/* metadata bytes */
#define LBAF_LBADS(f)	(((f) >> 16) & 0xffu)	/* log2 block size */

#define NS_LIST_MAX	1024	/* NSIDs in one CNS 02h answer */

#endif
