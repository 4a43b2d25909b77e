/* The console UART, the part every board shares (dev/pl011.c, dev/ns16550.c are the
 * hardware halves, board.h uart_hw_*): polled transmit of text and raw bytes, and an
 * interrupt-driven receive ring so no typed or pasted byte is lost. When the ring is full
 * the receive interrupt is masked (bytes wait in the UART's FIFO and QEMU holds back the
 * rest) until the loop has consumed some. */
#include <stdarg.h>
#include <stdio.h>
#include "board.h"

#define RX_SIZE 4096u /* power of two */
static volatile uint8_t rx_ring[RX_SIZE];
static volatile uint32_t rx_head, rx_tail; /* head: written by the IRQ, tail: by the loop */
static volatile int rx_masked;
static int ready;

void uart_init(uint32_t base) {
	uart_hw_init(base);
	ready = 1;
}

void uart_putc(char c) {
	if (ready) uart_hw_putc((uint8_t)c);
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
 * uart_hw_rx_ack comes BEFORE the drain: on an edge-like UART (QEMU's PL011 raises RX only
 * when a byte lands in an empty FIFO) clearing after the drain would lose a byte that
 * arrived between the last check and the clear, and with it every later interrupt. */
static void rx_drain(void) {
	uart_hw_rx_ack();
	while (uart_hw_rx_ready()) {
		uint32_t head = rx_head;
		if (head - rx_tail >= RX_SIZE) {
			uart_hw_rx_irq(0); /* full: leave the rest in the FIFO */
			rx_masked = 1;
			return;
		}
		rx_ring[head & (RX_SIZE - 1)] = uart_hw_getc();
		dmb();
		rx_head = head + 1;
	}
}

/* Interrupt context. */
void uart_irq(void) { rx_drain(); }

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
		uart_hw_rx_irq(1);
		rx_drain();
		irq_unmask_cpu();
	}
	return n;
}
