/*
 * hba.h - the AHCI 1.3.1 host bus adapter: its registers (§3), the
 * structures it reads from and writes to memory (§4), and the FIS types
 * of SATA 3.x §10.5 that travel through them.
 */
#ifndef AHCI_HBA_H
#define AHCI_HBA_H

#include <stdint.h>

/* --- Generic host control (§3.1), offsets from ABAR (BAR5) ------------ */
#define HBA_CAP		0x00
#define HBA_GHC		0x04
#define HBA_IS		0x08
#define HBA_PI		0x0c
#define HBA_VS		0x10
#define HBA_CAP2	0x24
#define HBA_BOHC	0x28

#define CAP_NP_MASK	0x1fu		/* ports - 1 */
#define CAP_NCS_SHIFT	8		/* command slots - 1, 5 bits */
#define CAP_NCS_MASK	0x1fu
#define CAP_SSS		(1u << 27)	/* staggered spin-up: set PxCMD.SUD */
#define CAP_SMPS	(1u << 28)	/* mechanical presence switch */
#define CAP_SNCQ	(1u << 30)	/* native command queuing */
#define CAP_S64A	(1u << 31)	/* 64-bit addressing */

#define GHC_HR		(1u << 0)	/* HBA reset (§10.4.3) */
#define GHC_IE		(1u << 1)	/* interrupt enable */
#define GHC_AE		(1u << 31)	/* AHCI enable */

#define CAP2_BOH	(1u << 0)	/* BIOS/OS handoff (§10.6) */

#define BOHC_BOS	(1u << 0)	/* BIOS owned semaphore */
#define BOHC_OOS	(1u << 1)	/* OS owned semaphore */
#define BOHC_BB		(1u << 4)	/* BIOS busy */

#define VS_1_2		0x00010200u

/* --- Port registers (§3.3), 0x80 bytes each from 0x100 ---------------- */
#define HBA_PORT(n)	(0x100u + (unsigned)(n) * 0x80u)
#define PX_CLB		0x00
#define PX_CLBU		0x04
#define PX_FB		0x08
#define PX_FBU		0x0c
#define PX_IS		0x10
#define PX_IE		0x14
#define PX_CMD		0x18
#define PX_TFD		0x20
#define PX_SIG		0x24
#define PX_SSTS		0x28
#define PX_SCTL		0x2c
#define PX_SERR		0x30
#define PX_SACT		0x34
#define PX_CI		0x38
#define HBA_SIZE	0x1100u		/* the registers of 32 ports */

/* PxIS and PxIE (§3.3.5, §3.3.6) */
#define PXIS_DHRS	(1u << 0)	/* D2H register FIS */
#define PXIS_PSS	(1u << 1)	/* PIO setup FIS */
#define PXIS_DSS	(1u << 2)	/* DMA setup FIS */
#define PXIS_SDBS	(1u << 3)	/* set device bits FIS */
#define PXIS_UFS	(1u << 4)	/* unknown FIS */
#define PXIS_DPS	(1u << 5)	/* descriptor processed */
#define PXIS_PCS	(1u << 6)	/* port connect change */
#define PXIS_PRCS	(1u << 22)	/* PhyRdy change */
#define PXIS_OFS	(1u << 24)	/* overflow */
#define PXIS_INFS	(1u << 26)	/* interface non-fatal error */
#define PXIS_IFS	(1u << 27)	/* interface fatal error */
#define PXIS_HBDS	(1u << 28)	/* host bus data error */
#define PXIS_HBFS	(1u << 29)	/* host bus fatal error */
#define PXIS_TFES	(1u << 30)	/* task file error */
#define PXIS_CPDS	(1u << 31)	/* cold port detect */

#define PXIS_DONE	(PXIS_DHRS | PXIS_PSS | PXIS_DSS | PXIS_SDBS | PXIS_DPS)
#define PXIS_LINK	(PXIS_PCS | PXIS_PRCS | PXIS_CPDS)
/* Errors that stop the port's command list (§6.1.2: fatal). */
#define PXIS_FATAL	(PXIS_TFES | PXIS_HBFS | PXIS_HBDS | PXIS_IFS | \
			 PXIS_OFS | PXIS_UFS)
#define PXIE_WANTED	(PXIS_DONE | PXIS_LINK | PXIS_FATAL | PXIS_INFS)

/* PxCMD (§3.3.7) */
#define PXCMD_ST	(1u << 0)	/* start the command list */
#define PXCMD_SUD	(1u << 1)	/* spin-up device */
#define PXCMD_POD	(1u << 2)	/* power on device */
#define PXCMD_FRE	(1u << 4)	/* FIS receive enable */
#define PXCMD_FR	(1u << 14)	/* FIS receive running */
#define PXCMD_CR	(1u << 15)	/* command list running */
#define PXCMD_ATAPI	(1u << 24)	/* the device is ATAPI */
#define PXCMD_ICC_MASK	(0xfu << 28)	/* never written back as read */
#define PXCMD_RUNNING	(PXCMD_ST | PXCMD_CR | PXCMD_FRE | PXCMD_FR)

/* PxTFD (§3.3.8): the shadow status and error registers */
#define TFD_ERR		0x01
#define TFD_DRQ		0x08
#define TFD_BSY		0x80
#define TFD_ERROR_SHIFT	8

/* PxSSTS / PxSCTL (§3.3.10, §3.3.11) */
#define SSTS_DET_MASK	0xfu
#define SSTS_DET_NONE	0x0
#define SSTS_DET_PRESENT 0x1		/* device, no communication */
#define SSTS_DET_PHY	0x3		/* device and communication */
#define SCTL_DET_MASK	0xfu
#define SCTL_DET_COMRESET 0x1
#define SCTL_IPM_NONE	(0x3u << 8)	/* no partial/slumber transitions */

/* PxSERR (§3.3.12): DIAG.N and DIAG.X clear PRCS and PCS */
#define SERR_ALL	0xffffffffu

/* PxSIG (§3.3.9): what the first D2H register FIS said */
#define SIG_ATA		0x00000101u
#define SIG_ATAPI	0xeb140101u
#define SIG_SEMB	0xc33c0101u
#define SIG_PM		0x96690101u

/* --- Memory structures (§4.2) ----------------------------------------- */

/* A command header, 32 per command list (§4.2.2). */
struct ahci_cmd_hdr {
	uint16_t flags;		/* CFL 4:0, A 5, W 6, P 7, R 8, B 9, C 10 */
	uint16_t prdtl;		/* PRD entries */
	uint32_t prdbc;		/* bytes transferred (the HBA writes it) */
	uint32_t ctba;		/* command table, 128-byte aligned */
	uint32_t ctbau;
	uint32_t reserved[4];
};
_Static_assert(sizeof(struct ahci_cmd_hdr) == 32, "command header layout");

#define HDR_CFL_H2D	5		/* dwords of a register H2D FIS */
#define HDR_ATAPI	(1u << 5)
#define HDR_WRITE	(1u << 6)
#define HDR_PREFETCH	(1u << 7)

/* A physical region descriptor (§4.2.3.3). */
struct ahci_prd {
	uint32_t dba;		/* data base, bit 0 reserved: word-aligned */
	uint32_t dbau;
	uint32_t reserved;
	uint32_t dbc;		/* bytes - 1 in 21:0 (even count), I in 31 */
};
_Static_assert(sizeof(struct ahci_prd) == 16, "PRD layout");

#define PRD_MAX_BYTES	(4u << 20)	/* 22-bit count: 4 MiB per entry */

/* A command table (§4.2.3): the FIS, the ATAPI command, the PRDT. */
struct ahci_cmd_table {
	uint8_t cfis[64];
	uint8_t acmd[16];
	uint8_t reserved[48];
	struct ahci_prd prdt[];
};
_Static_assert(sizeof(struct ahci_cmd_table) == 0x80, "command table layout");

/* The received-FIS area (§4.2.1), 256 bytes. */
#define RFIS_DSFIS	0x00
#define RFIS_PSFIS	0x20
#define RFIS_RFIS	0x40
#define RFIS_SDBFIS	0x58
#define RFIS_SIZE	256

#define CMD_LIST_SIZE	1024		/* 32 headers */
#define CMD_LIST_ALIGN	1024
#define RFIS_ALIGN	256
#define CMD_TABLE_ALIGN	128

/* --- FIS (SATA 3.x §10.5) ---------------------------------------------- */
#define FIS_H2D		0x27
#define FIS_D2H		0x34
#define FIS_SDB		0xa1
#define FIS_PIO_SETUP	0x5f
#define FIS_H2D_C	0x80		/* the FIS updates the command register */

/* A register host-to-device FIS (§10.5.5). */
struct fis_h2d {
	uint8_t type;		/* FIS_H2D */
	uint8_t flags;		/* PM port 3:0, C 7 */
	uint8_t command;
	uint8_t feature_lo;
	uint8_t lba0, lba1, lba2;
	uint8_t device;
	uint8_t lba3, lba4, lba5;
	uint8_t feature_hi;
	uint8_t count_lo, count_hi;
	uint8_t icc;
	uint8_t control;
	uint8_t aux[4];
};
_Static_assert(sizeof(struct fis_h2d) == 20, "H2D FIS layout");

#define FIS_DEV_LBA	0x40		/* LBA addressing (device bit 6) */
#define FIS_DEV_FUA	0x80		/* FPDMA: forced unit access */

#endif
