/*
 * queue.c - the byte ring from the interrupt to the work (see ps2.h);
 * the keys wait for the client in an abi/rt key queue.
 */
#include "ps2.h"

/*
 * The handler may cut into the work at any instruction (work runs with
 * interrupts open), so each side publishes its index only after the
 * byte it covers is written or read: a compiler barrier keeps the store
 * or load of b[] before the index update (one CPU: program order is
 * enough for the hardware).
 */
#define BARRIER() __asm__ volatile("" : : : "memory")

void
rawq_init(struct rawq *q)
{
	q->head = q->tail = q->dropped = 0;
}

/* From the interrupt handler.  Full: the byte is lost and counted. */
int
rawq_put(struct rawq *q, uint8_t b)
{
	if (q->tail - q->head == PS2_RAW_SIZE) {
		q->dropped++;
		return 0;
	}
	q->b[q->tail % PS2_RAW_SIZE] = b;
	BARRIER();
	q->tail++;
	return 1;
}

int
rawq_get(struct rawq *q, uint8_t *b)
{
	if (q->head == q->tail)
		return 0;
	*b = q->b[q->head % PS2_RAW_SIZE];
	BARRIER();
	q->head++;
	return 1;
}
