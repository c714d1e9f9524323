/**
 * One copy of the short strings that every binding repeats. A node's answer is parsed anew
 * for each call, so its `media_ip` and `codec` arrive as fresh strings, which a binding kept
 * for the length of the call (a 15-character IP: about 35 bytes of ~350, bench/profile-memory.ts). A node's
 * own media IP is reused when the answer names the same one; codec names (a handful) go
 * through a small table.
 */
const MAX_CODECS = 256;
const codecs = new Map<string, string>();

/** The node's `mediaIp` when the answer's equals it (or is empty), else the answer's. */
export function mediaIpOf(answered: string | undefined, nodeMediaIp: string): string {
  return !answered || answered === nodeMediaIp ? nodeMediaIp : answered;
}

/** The one kept copy of a codec name (names beyond the first {@link MAX_CODECS} are not kept). */
export function internCodec(codec: string): string {
  const kept = codecs.get(codec);
  if (kept !== undefined) return kept;
  if (codecs.size < MAX_CODECS) codecs.set(codec, codec);
  return codec;
}
