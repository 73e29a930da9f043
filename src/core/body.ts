/** The body as text, at most `maxBytes` of it: the rest is never read (the stream is cancelled). */
export async function textUpTo(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, maxBytes));
  let at = 0;
  for (const c of chunks) {
    if (at >= all.length) break;
    all.set(c.subarray(0, all.length - at), at);
    at += Math.min(c.byteLength, all.length - at);
  }
  return new TextDecoder().decode(all);
}
