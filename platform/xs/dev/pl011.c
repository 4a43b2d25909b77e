/* PL011 UART (ARM PrimeCell UART TRM DDI 0183): polled transmit, interrupt-driven receive.
 * The receive interrupt drains the RX FIFO into a ring buffer so no typed or pasted byte
 * is lost; when the ring is full the receive interrupt is masked (bytes wait in the FIFO
 * and QEMU holds back the rest) until the loop has consumed some. */
#include <stdarg.h>
#include <stdio.h>
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

#define RX_SIZE 4096u /* power of two */
static volatile uint8_t rx_ring[RX_SIZE];
static volatile uint32_t rx_head, rx_tail; /* head: written by the IRQ, tail: by the loop */
static volatile int rx_masked;
static uint32_t uart_base;

void uart_init(uint32_t base) {
	uart_base = base;
	wr32(base + UARTCR, 0);
	wr32(base + UARTLCR_H, (3u << 5) | (1u << 4)); /* 8 bits, FIFOs on */
	wr32(base + UARTIFLS, 0);                      /* RX interrupt at 1/8 full; RT covers the rest */
	wr32(base + UARTICR, 0x7FF);
	wr32(base + UARTIMSC, INT_RX | INT_RT);
	wr32(base + UARTCR, (1u << 0) | (1u << 8) | (1u << 9)); /* UARTEN, TXE, RXE */
}

void uart_putc(char c) {
	if (!uart_base) return;
	while (rd32(uart_base + UARTFR) & FR_TXFF) {}
	wr32(uart_base + UARTDR, (uint8_t)c);
}

void uart_write(const char* data, uint32_t len) {
	for (uint32_t i = 0; i < len; i++) uart_putc(data[i]);
}

/* The UTF-16 surrogate a 3-byte sequence ED A0..BF xx encodes, else 0. XS strings are
 * CESU-8 (mxCESU8: an astral character is stored as its two surrogates, 3 bytes each). */
static uint32_t cesu8_surrogate(const uint8_t* p) {
	if (p[0] != 0xEDu || (p[1] & 0xE0u) != 0xA0u || (p[2] & 0xC0u) != 0x80u) return 0;
	return 0xD000u | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
}

/* Text out as UTF-8: a CESU-8 surrogate pair becomes one 4-byte sequence, a lone surrogate
 * U+FFFD, the CESU-8 NUL (C0 80) a 0 byte; "\n" becomes "\r\n". */
void uart_puts(const char* s) {
	const uint8_t* p = (const uint8_t*)s;
	uint8_t prev = 0;
	while (*p) {
		uint32_t hi = cesu8_surrogate(p);
		if (hi) {
			uint32_t lo = hi < 0xDC00u ? cesu8_surrogate(p + 3) : 0;
			if (lo >= 0xDC00u) {
				uint32_t cp = 0x10000u + ((hi & 0x3FFu) << 10) + (lo & 0x3FFu);
				uart_putc((char)(0xF0u | (cp >> 18)));
				uart_putc((char)(0x80u | ((cp >> 12) & 0x3Fu)));
				uart_putc((char)(0x80u | ((cp >> 6) & 0x3Fu)));
				uart_putc((char)(0x80u | (cp & 0x3Fu)));
				p += 6;
			} else {
				uart_write("\xEF\xBF\xBD", 3);
				p += 3;
			}
			prev = 0;
			continue;
		}
		if (p[0] == 0xC0u && p[1] == 0x80u) {
			uart_putc(0);
			p += 2;
			prev = 0;
			continue;
		}
		if (*p == '\n' && prev != '\r') uart_putc('\r');
		uart_putc((char)*p);
		prev = *p++;
	}
}

void uart_printf(const char* fmt, ...) {
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	uart_puts(buf);
}

/* Moves bytes from the RX FIFO into the ring until the FIFO is empty or the ring full.
 * The interrupt is cleared BEFORE the drain: QEMU's PL011 raises RX only when a byte lands
 * in an empty FIFO, so clearing after the drain would lose a byte that arrived between the
 * last FR read and the ICR write, and with it every later interrupt (the FIFO fills, silent).
 * A byte landing after the final RXFE check raises a fresh interrupt. */
static void rx_drain(void) {
	wr32(uart_base + UARTICR, INT_RX | INT_RT);
	while (!(rd32(uart_base + UARTFR) & FR_RXFE)) {
		uint32_t head = rx_head;
		if (head - rx_tail >= RX_SIZE) {
			wr32(uart_base + UARTIMSC, 0); /* full: leave the rest in the FIFO */
			rx_masked = 1;
			return;
		}
		rx_ring[head & (RX_SIZE - 1)] = (uint8_t)rd32(uart_base + UARTDR);
		dmb();
		rx_head = head + 1;
	}
}

/* Interrupt context. */
void uart_irq(void) {
	rx_drain();
}

int uart_rx_pending(void) { return rx_head != rx_tail; }

/* Loop context. */
uint32_t uart_rx_read(uint8_t* buf, uint32_t max) {
	uint32_t n = 0, tail = rx_tail, head = rx_head;
	dmb();
	while (tail != head && n < max) buf[n++] = rx_ring[tail++ & (RX_SIZE - 1)];
	rx_tail = tail;
	if (rx_masked) {
		/* Room again: take what waited in the FIFO (its interrupt may be long cleared). */
		irq_mask_cpu();
		rx_masked = 0;
		wr32(uart_base + UARTIMSC, INT_RX | INT_RT);
		rx_drain();
		irq_unmask_cpu();
	}
	return n;
}
