/* PL011 UART (ARM PrimeCell UART TRM DDI 0183), the hardware half under uart.c: polled
 * transmit, receive interrupt (RX at 1/8 full, RT for the rest). QEMU's PL011 raises RX
 * only when a byte lands in an empty FIFO, so uart.c clears the interrupt (uart_hw_rx_ack)
 * before it drains: a byte arriving after the final RXFE check raises a fresh interrupt. */
#include "board.h"

#define UARTDR 0x00u
#define UARTFR 0x18u
#define UARTLCR_H 0x2Cu
#define UARTCR 0x30u
#define UARTIFLS 0x34u
#define UARTIMSC 0x38u
#define UARTICR 0x44u
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define INT_RX (1u << 4)
#define INT_RT (1u << 6)

static uint32_t uart_base;

void uart_hw_init(uint32_t base) {
	uart_base = base;
	wr32(base + UARTCR, 0);
	wr32(base + UARTLCR_H, (3u << 5) | (1u << 4)); /* 8 bits, FIFOs on */
	wr32(base + UARTIFLS, 0);                      /* RX interrupt at 1/8 full; RT covers the rest */
	wr32(base + UARTICR, 0x7FF);
	wr32(base + UARTIMSC, INT_RX | INT_RT);
	wr32(base + UARTCR, (1u << 0) | (1u << 8) | (1u << 9)); /* UARTEN, TXE, RXE */
}

void uart_hw_putc(uint8_t c) {
	while (rd32(uart_base + UARTFR) & FR_TXFF) {}
	wr32(uart_base + UARTDR, c);
}

int uart_hw_rx_ready(void) { return !(rd32(uart_base + UARTFR) & FR_RXFE); }
uint8_t uart_hw_getc(void) { return (uint8_t)rd32(uart_base + UARTDR); }
void uart_hw_rx_irq(int on) { wr32(uart_base + UARTIMSC, on ? (INT_RX | INT_RT) : 0); }
void uart_hw_rx_ack(void) { wr32(uart_base + UARTICR, INT_RX | INT_RT); }
