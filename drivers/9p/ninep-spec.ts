// 9P2000.L facts the driver and the host model share: message types, header layout,
// open flags (Linux values, as 9P2000.L carries them), errno names, the virtio-9p
// feature bit and config layout (VIRTIO 1.2 §5.10 lists device ID 9; the transport is
// QEMU hw/9pfs/virtio-9p-device.c and Linux net/9p/trans_virtio.c).

/** size[4] type[1] tag[2]. */
export const HEADER_BYTES = 7;
/** The tag of Tversion (no other request may use it). */
export const NOTAG = 0xffff;
/** The fid value meaning "none" (afid of Tattach without authentication). */
export const NOFID = 0xffff_ffff;
/** Most names in one Twalk. */
export const MAX_WALK_NAMES = 16;
/** Rread header: size type tag count[4]. */
export const READ_HEADER_BYTES = HEADER_BYTES + 4;
/** Twrite header: size type tag fid[4] offset[8] count[4]. */
export const WRITE_HEADER_BYTES = HEADER_BYTES + 4 + 8 + 4;
export const VERSION_9P2000_L = "9P2000.L";

/** Feature bit 0: the config holds a mount tag. */
export const VIRTIO_9P_F_MOUNT_TAG = 0;
/** Config: le16 tag_len at 0, then tag_len bytes of tag (not NUL-terminated). */
export const CONFIG_TAG_LEN = 0;
export const CONFIG_TAG = 2;

/** T-message types; the R-message is always T + 1. */
export const Op = {
  LERROR: 7,
  STATFS: 8,
  LOPEN: 12,
  LCREATE: 14,
  GETATTR: 24,
  READDIR: 40,
  FSYNC: 50,
  MKDIR: 72,
  RENAMEAT: 74,
  UNLINKAT: 76,
  VERSION: 100,
  ATTACH: 104,
  WALK: 110,
  READ: 116,
  WRITE: 118,
  CLUNK: 120,
} as const;

export const OP_NAMES: Readonly<Record<number, string>> = {
  7: "Rlerror", 12: "Tlopen", 13: "Rlopen", 14: "Tlcreate", 15: "Rlcreate", 24: "Tgetattr",
  25: "Rgetattr", 40: "Treaddir", 41: "Rreaddir", 50: "Tfsync", 51: "Rfsync", 72: "Tmkdir",
  73: "Rmkdir", 74: "Trenameat", 75: "Rrenameat", 76: "Tunlinkat", 77: "Runlinkat",
  100: "Tversion", 101: "Rversion", 104: "Tattach", 105: "Rattach", 110: "Twalk", 111: "Rwalk",
  116: "Tread", 117: "Rread", 118: "Twrite", 119: "Rwrite", 120: "Tclunk", 121: "Rclunk",
};

export function opName(type: number): string {
  return OP_NAMES[type] ?? `type ${type}`;
}

/** Linux open flags as Tlopen / Tlcreate carry them. */
export const OpenFlag = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  DIRECTORY: 0o200000,
} as const;

/** Tunlinkat flags: remove a directory. */
export const AT_REMOVEDIR = 0x200;
/** qid.type bit of a directory. */
export const QTDIR = 0x80;
/** Tgetattr request_mask: the basic fields (mode .. blocks). */
export const GETATTR_BASIC = 0x7ffn;
/** Directory entry type byte (DT_DIR / DT_REG). */
export const DT_DIR = 4;
export const DT_REG = 8;
/** Mode bits of a directory and a regular file (st_mode). */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

/** Linux errno values and their names, for Rlerror. */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM", 2: "ENOENT", 5: "EIO", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
  16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE",
  24: "EMFILE", 27: "EFBIG", 28: "ENOSPC", 30: "EROFS", 36: "ENAMETOOLONG", 38: "ENOSYS",
  39: "ENOTEMPTY", 40: "ELOOP", 71: "EPROTO", 74: "EBADMSG", 75: "EOVERFLOW", 95: "EOPNOTSUPP",
};

export const Errno = {
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21,
  EINVAL: 22, ENOSPC: 28, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, EPROTO: 71,
} as const;

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** A qid: type[1] version[4] path[8]. */
export interface Qid {
  readonly type: number;
  readonly version: number;
  readonly path: bigint;
}
export const QID_BYTES = 13;
