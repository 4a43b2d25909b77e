/* NS16550A UART (the `ns16550a` of QEMU's riscv `virt`: byte registers, no reg-shift),
 * the hardware half under uart.c: polled transmit, receive interrupt on "data available"
 * (IER.ERBFI; with the FIFO on at a 1-byte trigger, the line stays high while the FIFO
 * holds data, so draining until LSR.DR is clear loses nothing). */
#include "board.h"

#define RBR 0u /* read: receive buffer */
#define THR 0u /* write: transmit holding */
#define IER 1u
#define FCR 2u /* write: FIFO control */
#define LCR 3u
#define MCR 4u
#define LSR 5u
#define IER_ERBFI 0x01u
#define FCR_ENABLE 0x01u
#define FCR_CLEAR 0x06u  /* both FIFOs */
#define LCR_8N1 0x03u
#define MCR_DTR_RTS_OUT2 0x0Bu /* OUT2 gates the interrupt line on PC-style wiring */
#define LSR_DR 0x01u
#define LSR_THRE 0x20u

static uint32_t base;

void uart_hw_init(uint32_t b) {
	base = b;
	wr8(base + IER, 0);
	wr8(base + LCR, LCR_8N1); /* the divisor is QEMU's: baud rates mean nothing there */
	wr8(base + FCR, FCR_ENABLE | FCR_CLEAR);
	wr8(base + MCR, MCR_DTR_RTS_OUT2);
	(void)rd8(base + LSR);
	wr8(base + IER, IER_ERBFI);
}

void uart_hw_putc(uint8_t c) {
	while (!(rd8(base + LSR) & LSR_THRE)) {}
	wr8(base + THR, c);
}

int uart_hw_rx_ready(void) { return (rd8(base + LSR) & LSR_DR) != 0; }
uint8_t uart_hw_getc(void) { return rd8(base + RBR); }
void uart_hw_rx_irq(int on) { wr8(base + IER, on ? IER_ERBFI : 0); }
void uart_hw_rx_ack(void) {} /* the interrupt is the FIFO's level: draining clears it */
