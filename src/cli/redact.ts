/**
 * What may be shown of secrets. Session ids are bearer credentials and session values personal data: the CLI
 * prints counts, sizes, record numbers and byte offsets, never them. A password in a URL is shown as `***`.
 */

/** `redis://user:***@host:port/db`: the URL with its password masked (the URL as given when it does not parse). */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Up to the last "@": a password typed unencoded may hold "/", "?" or "#" (which is why the URL does not parse).
    return url.replace(/\/\/([^:/@]*):.*@/, '//$1:***@');
  }
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString().replace('%2A%2A%2A', '***');
}

/** Replaces every occurrence of `secret` in `text` (an error message from a library, say) by `***`. */
export function hideSecret(text: string, secret: string | undefined): string {
  if (secret === undefined || secret === '') return text;
  const variants = new Set([secret, encodeURIComponent(secret)]);
  let out = text;
  for (const variant of variants) out = out.split(variant).join('***');
  return out;
}

/** Position (character offset) of a JSON.parse failure, without the excerpt of the input V8 puts in its message. */
export function jsonErrorAt(err: unknown): string {
  const at = err instanceof Error ? /position (\d+)/.exec(err.message)?.[1] : undefined;
  return at === undefined ? 'not valid JSON' : `not valid JSON (at character ${at})`;
}
