/*
 * ata.h - the ATA commands the driver sends (ACS-3 §7), the IDENTIFY
 * DEVICE words it reads (ACS-3 §7.12.7, Table 45), and the SCSI commands
 * an ATAPI device takes through PACKET (MMC-6 / SPC-4).
 */
#ifndef AHCI_ATA_H
#define AHCI_ATA_H

#include <stdint.h>

/* Commands (ACS-3 §7; SATA 3.x §13.6 for the FPDMA ones). */
#define ATA_IDENTIFY		0xec
#define ATA_IDENTIFY_PACKET	0xa1
#define ATA_READ_DMA_EXT	0x25
#define ATA_WRITE_DMA_EXT	0x35
#define ATA_FLUSH_CACHE_EXT	0xea
#define ATA_READ_FPDMA		0x60
#define ATA_WRITE_FPDMA		0x61
#define ATA_PACKET		0xa0

#define ATA_PACKET_DMA		0x01	/* PACKET feature: data by DMA */

/* IDENTIFY DEVICE words (ACS-3 Table 45). */
#define ID_CONFIG		0	/* bit 15: not ATA; bit 7: removable */
#define ID_SERIAL		10	/* 20 chars, words 10-19 */
#define ID_SERIAL_LEN		20
#define ID_MODEL		27	/* 40 chars, words 27-46 */
#define ID_MODEL_LEN		40
#define ID_QUEUE_DEPTH		75	/* bits 4:0: depth - 1 */
#define ID_SATA_CAP		76	/* bit 8: NCQ */
#define ID_CMDSET2		83	/* bit 10: 48-bit; bit 13: FLUSH EXT */
#define ID_CMDSET3		84	/* bit 8: WWN (words 108-111) */
#define ID_CMDSET5		86	/* 48-bit enabled (bit 10) */
#define ID_LBA48		100	/* words 100-103 */
#define ID_SECTOR_SIZE		106	/* bit 14 valid, bit 12 long logical */
#define ID_WWN			108	/* words 108-111 */
#define ID_LOGICAL_SIZE		117	/* words 117-118: words per sector */
#define ID_INTEGRITY		255	/* A5h in 7:0: checksum in 15:8 */

#define ID_CONFIG_NOT_ATA	0x8000
#define ID_CONFIG_REMOVABLE	0x0080
#define ID_CONFIG_ATAPI_MASK	0xc000	/* 10b: ATAPI */
#define ID_CONFIG_ATAPI		0x8000
#define ID_SATA_NCQ		0x0100
#define ID_CMDSET2_LBA48	0x0400
#define ID_CMDSET2_FLUSH_EXT	0x2000
#define ID_CMDSET3_WWN		0x0100
#define ID_SS_VALID_MASK	0xc000	/* 01b: the word is valid */
#define ID_SS_VALID		0x4000
#define ID_SS_LONG_LOGICAL	0x1000
#define ID_INTEGRITY_SIG	0xa5

#define ATA_MAX_LBA48		(1ull << 48)
#define ATA_MAX_SECTORS		65536u	/* per READ/WRITE DMA EXT (count 0) */

/* SCSI commands through PACKET (SPC-4, SBC-3, MMC-6). */
#define SCSI_READ_CAPACITY10	0x25
#define SCSI_READ10		0x28
#define ATAPI_CDB_LEN		12
#define ATAPI_MAX_BLOCKS	65535u	/* READ(10) transfer length */

#endif
