// Sends every UDP datagram that arrives on port 7 back to where it came from, and tells
// on the UART when the link goes up or down and when the address changes (DHCP).
import device from "embedded:provider/builtin";

const uart = new device.io.Serial({ ...device.Serial.default });
const say = (line: string) => uart.write(`${line}\r\n`);

const ethernet = new device.network.ethernet.io({
  ...device.network.ethernet,
  onChanged(what) {
    if (what === "link") say(`udp-echo: link ${this.link}`);
    else say(`udp-echo: address ${this.address ?? "none"}`);
  },
});

let echoed = 0;
new device.io.UDP({
  port: 7,
  onReadable(count) {
    for (let i = 0; i < count; i++) {
      const datagram = this.read();
      if (datagram === undefined) break;
      this.write(datagram, datagram.address, datagram.port);
      echoed++;
    }
  },
  onError(error) {
    say(`udp-echo: ${error.message} (${echoed} echoed so far)`);
  },
});
say(`udp-echo: MAC ${ethernet.mac}, echoing UDP port 7`);
