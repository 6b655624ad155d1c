/**
 * How much of a request body a node reads. Lens clients send small multipart text parts; nothing
 * larger than these is buffered (the parsers stop at the limit and the client gets 413).
 */
export const BODY_LIMITS = {
  /** A JSON or urlencoded body (Lens clients send multipart; these are read for convenience). */
  parsedBodyBytes: 100 * 1024,
  /** Fields and parts of a multipart form (busboy's names); a part with a filename counts as a file. */
  multipart: { fields: 64, files: 16, parts: 80, fieldNameSize: 100, fieldSize: 256 * 1024, fileSize: 256 * 1024 },
} as const;
