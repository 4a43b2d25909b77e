// Blinks a word on the UART: shown, then erased, every `periodMs` (from the manifest's
// config), `blinks` times, with Moddable's Timer; then says "blink done".
import device from "embedded:provider/builtin";
import Timer from "timer";
import config from "mc/config";

const uart = new device.io.Serial({ ...device.Serial.default });
const blank = " ".repeat(config.text.length);
let shown = 0;

uart.write(`timer-blink: ${config.blinks} blinks every ${config.periodMs} ms\r\n`);
Timer.repeat((timer) => {
  const on = shown % 2 === 0;
  uart.write(`\r${on ? config.text : blank}`);
  if (on) uart.write(` ${shown / 2 + 1}`);
  shown++;
  if (shown === config.blinks * 2) {
    Timer.clear(timer);
    uart.write("\r\nblink done\r\n");
  }
}, config.periodMs);
