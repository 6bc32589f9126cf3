/**
 * Every failure tft-native raises is a TftError with a stable `code`. Native failures arrive already typed:
 * the addon is handed {@link makeError} at load time and builds these classes itself.
 */

/**
 * Every code a TftError can carry. The native ones (the first fifteen) are also listed by the addon's
 * errorCodes(), and a test checks the two lists agree; the rest are raised by the TypeScript layer only.
 */
export const TFT_ERROR_CODES = [
  'ERR_INVALID_ARG',
  'ERR_SHAPE',
  'ERR_DTYPE',
  'ERR_NAN',
  'ERR_NOT_FOUND',
  'ERR_OUT_OF_RANGE',
  'ERR_CUDA_UNAVAILABLE',
  'ERR_STATE_DICT',
  'ERR_IO',
  'ERR_CORRUPT',
  'ERR_CANCELLED',
  'ERR_OUT_OF_MEMORY',
  'ERR_BUSY',
  'ERR_DISPOSED',
  'ERR_NATIVE',
  'ERR_ADDON_LOAD',
  'ERR_SCHEMA',
  'ERR_UNSAFE_PATH',
  'ERR_DATA',
  'ERR_CONFLICT',
] as const;

export type TftErrorCode = (typeof TFT_ERROR_CODES)[number];

export class TftError extends Error {
  readonly code: TftErrorCode;
  /** The argument, tensor, file or column at fault, when there is one. */
  readonly argument: string | undefined;

  constructor(code: TftErrorCode, message: string, argument?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.argument = argument;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A value outside its documented domain (k < 1, an unknown option, a bad config field). */
export class InvalidArgumentError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_INVALID_ARG', message, argument);
  }
}
/** Lengths or dimensions that do not agree. */
export class ShapeError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_SHAPE', message, argument);
  }
}
/** A typed array of the wrong element type. */
export class DTypeError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_DTYPE', message, argument);
  }
}
/** NaN or ±Inf where finite values are required. */
export class NonFiniteError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_NAN', message, argument);
  }
}
/** A named thing (feature, tensor, file, checkpoint) that does not exist. */
export class NotFoundError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_NOT_FOUND', message, argument);
  }
}
/** An index outside its bounds (entity id, fold). */
export class OutOfRangeError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_OUT_OF_RANGE', message, argument);
  }
}
/** CUDA requested but not compiled in, or no usable device. */
export class CudaUnavailableError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_CUDA_UNAVAILABLE', message, argument);
  }
}
/** Missing, unexpected or misshapen tensors in a state dict. */
export class StateDictError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_STATE_DICT', message, argument);
  }
}
/** The file system refused. */
export class IoError extends TftError {
  constructor(message: string, argument?: string, options?: { cause?: unknown }) {
    super('ERR_IO', message, argument, options);
  }
}
/** A file that is not what it claims to be: truncated, tampered, bad checksum, bad header. */
export class CorruptFileError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_CORRUPT', message, argument);
  }
}
/** A job stopped because its caller asked it to. */
export class CancelledError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_CANCELLED', message, argument);
  }
}
/** A native allocation failed. */
export class OutOfMemoryError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_OUT_OF_MEMORY', message, argument);
  }
}
/** A failure inside libtorch or the addon that has no more specific class. */
export class NativeError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_NATIVE', message, argument);
  }
}
/** The native addon could not be loaded; the message says what to install or set. */
export class AddonLoadError extends TftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ADDON_LOAD', message, undefined, options);
  }
}
/** A document (config, metadata, snapshot) that violates its schema. */
export class SchemaError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_SCHEMA', message, argument);
  }
}
/** A name that could escape its base directory (path traversal, absolute path, NUL, empty). */
export class UnsafePathError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_UNSAFE_PATH', message, argument);
  }
}
/** Input data that cannot be used: missing columns, unparsable dates, duplicates, bad prices. */
export class DataError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_DATA', message, argument);
  }
}
/** A method called on an object after dispose(). */
export class DisposedError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_DISPOSED', message, argument);
  }
}
/** An object in use by a running asynchronous job (await it, or use the async form). */
export class BusyError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_BUSY', message, argument);
  }
}
/** A concurrent writer got there first (e.g. a version number taken). */
export class ConflictError extends TftError {
  constructor(message: string, argument?: string) {
    super('ERR_CONFLICT', message, argument);
  }
}

type ErrorFactory = (message: string, argument?: string) => TftError;

const BY_CODE: Record<TftErrorCode, ErrorFactory> = {
  ERR_INVALID_ARG: (m, a) => new InvalidArgumentError(m, a),
  ERR_SHAPE: (m, a) => new ShapeError(m, a),
  ERR_DTYPE: (m, a) => new DTypeError(m, a),
  ERR_NAN: (m, a) => new NonFiniteError(m, a),
  ERR_NOT_FOUND: (m, a) => new NotFoundError(m, a),
  ERR_OUT_OF_RANGE: (m, a) => new OutOfRangeError(m, a),
  ERR_CUDA_UNAVAILABLE: (m, a) => new CudaUnavailableError(m, a),
  ERR_STATE_DICT: (m, a) => new StateDictError(m, a),
  ERR_IO: (m, a) => new IoError(m, a),
  ERR_CORRUPT: (m, a) => new CorruptFileError(m, a),
  ERR_CANCELLED: (m, a) => new CancelledError(m, a),
  ERR_OUT_OF_MEMORY: (m, a) => new OutOfMemoryError(m, a),
  ERR_NATIVE: (m, a) => new NativeError(m, a),
  ERR_ADDON_LOAD: (m) => new AddonLoadError(m),
  ERR_SCHEMA: (m, a) => new SchemaError(m, a),
  ERR_UNSAFE_PATH: (m, a) => new UnsafePathError(m, a),
  ERR_DATA: (m, a) => new DataError(m, a),
  ERR_DISPOSED: (m, a) => new DisposedError(m, a),
  ERR_BUSY: (m, a) => new BusyError(m, a),
  ERR_CONFLICT: (m, a) => new ConflictError(m, a),
};

/** Builds the error class for a code; unknown codes (a newer addon) become NativeError, keeping the code. */
export function makeError(code: string, message: string, argument?: string): TftError {
  const make = BY_CODE[code as TftErrorCode];
  if (make) return make(message, argument);
  const err = new NativeError(message, argument);
  (err as { code: string }).code = code;
  return err;
}
