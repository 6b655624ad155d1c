/*
 * A RowBatch's from_index and row_count read straight from its bytes, its values skipped, not
 * decoded: for a client that wants to count or place batches (a progress line, the bench's
 * counting client) without paying for every value. Top-level fields only; any field it does not
 * know is skipped by its wire type, as a protobuf decoder would.
 */

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

export interface RowBatchPlace {
  fromIndex: number;
  rowCount: number;
}

export function rowBatchPlaceOf(message: Uint8Array): RowBatchPlace {
  const place: RowBatchPlace = { fromIndex: 0, rowCount: 0 };
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (at >= message.length) throw new RangeError('a RowBatch cut short inside a varint');
      const byte = message[at++];
      value += (byte & 127) * scale;
      if (byte < 128) return value;
    }
  };
  while (at < message.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case VARINT: {
        const value = varint();
        if (field === 2) place.fromIndex = value;
        else if (field === 3) place.rowCount = value;
        break;
      }
      case LEN: {
        const length = varint();
        at += length;
        break;
      }
      case FIXED64:
        at += 8;
        break;
      case FIXED32:
        at += 4;
        break;
      default:
        throw new RangeError(`a RowBatch with wire type ${tag % 8}`);
    }
  }
  if (at !== message.length) throw new RangeError('a RowBatch cut short inside a field');
  return place;
}
