// Names of the evdev event types and of common codes (the Linux input ABI that virtio-input
// carries, §5.8.6), for printing: `EV_KEY KEY_A 1`. Unknown values print as numbers.

export const EV = {
  SYN: 0x00,
  KEY: 0x01,
  REL: 0x02,
  ABS: 0x03,
  MSC: 0x04,
  SW: 0x05,
  LED: 0x11,
  SND: 0x12,
  REP: 0x14,
  FF: 0x15,
  PWR: 0x16,
  FF_STATUS: 0x17,
} as const;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: "EV_SYN", 0x01: "EV_KEY", 0x02: "EV_REL", 0x03: "EV_ABS", 0x04: "EV_MSC", 0x05: "EV_SW",
  0x11: "EV_LED", 0x12: "EV_SND", 0x14: "EV_REP", 0x15: "EV_FF", 0x16: "EV_PWR", 0x17: "EV_FF_STATUS",
};

/** Key codes in order from 1 (KEY_ESC) to 58 (KEY_CAPSLOCK). */
const KEYS_1_58 = [
  "ESC", "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "MINUS", "EQUAL", "BACKSPACE", "TAB",
  "Q", "W", "E", "R", "T", "Y", "U", "I", "O", "P", "LEFTBRACE", "RIGHTBRACE", "ENTER", "LEFTCTRL",
  "A", "S", "D", "F", "G", "H", "J", "K", "L", "SEMICOLON", "APOSTROPHE", "GRAVE", "LEFTSHIFT",
  "BACKSLASH", "Z", "X", "C", "V", "B", "N", "M", "COMMA", "DOT", "SLASH", "RIGHTSHIFT",
  "KPASTERISK", "LEFTALT", "SPACE", "CAPSLOCK",
];

const KEY_NAMES: Record<number, string> = {
  69: "NUMLOCK", 70: "SCROLLLOCK", 87: "F11", 88: "F12", 96: "KPENTER", 97: "RIGHTCTRL", 99: "SYSRQ",
  100: "RIGHTALT", 102: "HOME", 103: "UP", 104: "PAGEUP", 105: "LEFT", 106: "RIGHT", 107: "END",
  108: "DOWN", 109: "PAGEDOWN", 110: "INSERT", 111: "DELETE", 119: "PAUSE", 125: "LEFTMETA", 126: "RIGHTMETA",
};
KEYS_1_58.forEach((name, i) => (KEY_NAMES[i + 1] = name));
for (let f = 1; f <= 10; f++) KEY_NAMES[58 + f] = `F${f}`;

const BTN_NAMES: Readonly<Record<number, string>> = {
  0x110: "BTN_LEFT", 0x111: "BTN_RIGHT", 0x112: "BTN_MIDDLE", 0x113: "BTN_SIDE", 0x114: "BTN_EXTRA", 0x14a: "BTN_TOUCH",
};

const CODE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [EV.SYN]: { 0: "SYN_REPORT", 1: "SYN_CONFIG", 2: "SYN_MT_REPORT", 3: "SYN_DROPPED" },
  [EV.REL]: { 0: "REL_X", 1: "REL_Y", 2: "REL_Z", 6: "REL_HWHEEL", 8: "REL_WHEEL" },
  [EV.ABS]: { 0: "ABS_X", 1: "ABS_Y", 2: "ABS_Z", 0x18: "ABS_PRESSURE" },
  [EV.MSC]: { 4: "MSC_SCAN" },
  [EV.LED]: { 0: "LED_NUML", 1: "LED_CAPSL", 2: "LED_SCROLLL" },
  [EV.REP]: { 0: "REP_DELAY", 1: "REP_PERIOD" },
};

/** "EV_KEY", or the number for a type without a name. */
export function eventTypeName(type: number): string {
  return TYPE_NAMES[type] ?? String(type);
}

/** "KEY_A", "BTN_LEFT", "REL_X", ..., or the number. */
export function eventCodeName(type: number, code: number): string {
  if (type === EV.KEY) {
    const key = KEY_NAMES[code];
    if (key !== undefined) return `KEY_${key}`;
    return BTN_NAMES[code] ?? String(code);
  }
  return CODE_NAMES[type]?.[code] ?? String(code);
}

/** The key code of a name such as "KEY_A" or "A", or undefined. */
export function keyCode(name: string): number | undefined {
  const bare = name.toUpperCase().replace(/^KEY_/, "");
  for (const [code, n] of Object.entries(KEY_NAMES)) if (n === bare) return Number(code);
  return undefined;
}
