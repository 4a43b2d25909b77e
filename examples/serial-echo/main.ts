// Echoes every byte that arrives on the first virtio console (port "hvc0") back to it,
// with flow control: bytes are read only as far as there is room to write them, the rest
// waits in the port (and in the host) until onWritable says the room is back.
import device from "embedded:provider/builtin";

const uart = new device.io.Serial({ ...device.Serial.default });

function pump(serial: InstanceType<typeof device.io.Serial>): void {
  for (;;) {
    const n = Math.min(serial.readable, serial.writable);
    if (n === 0) return;
    serial.write(serial.read(n) as ArrayBuffer);
  }
}

new device.io.Serial({
  port: "hvc0",
  onReadable() {
    pump(this);
  },
  onWritable() {
    pump(this);
  },
  onError(error) {
    uart.write(`serial-echo: hvc0 failed: ${error.message}\r\n`);
  },
});
uart.write("serial-echo: echoing hvc0\r\n");
