/** Regroups a byte stream into buffers of a fixed size (the last one may be shorter). */
export async function* fixedSizeChunks(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let rest = piece;
    while (pendingBytes + rest.length >= size) {
      const take = size - pendingBytes;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending, size);
      rest = rest.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** A byte stream without its first `count` bytes: where a resumed transfer picks up. */
export async function* skipBytes(source: AsyncIterable<Buffer>, count: number): AsyncGenerator<Buffer> {
  let skipped = 0;
  for await (const piece of source) {
    if (skipped >= count) {
      yield piece;
      continue;
    }
    const take = Math.min(count - skipped, piece.length);
    skipped += take;
    if (take < piece.length) yield piece.subarray(take);
  }
}
