// Prints every key press and release of the first virtio keyboard ("input0") on the UART.
import device from "embedded:provider/builtin";

const EV_KEY = 1;
const uart = new device.io.Serial({ ...device.Serial.default });

const keyboard = new device.input.io({
  ...device.input.default,
  onEvent(event) {
    if (event.type !== EV_KEY) return; // EV_SYN and the rest
    const state = event.value === 1 ? "down" : event.value === 0 ? "up" : "repeat";
    uart.write(`key ${event.code} ${state}\r\n`);
  },
});
uart.write(`keyboard-logger: ${keyboard.name}\r\n`);
