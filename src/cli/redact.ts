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
    return maskUpToLastAt(url);
  }
  // Such a password after digits parses: as the host's port, the rest of it in the path, query or fragment.
  if (hasAtAfterHost(parsed)) return maskUpToLastAt(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString().replace('%2A%2A%2A', '***');
}

/** Up to the last "@": a password typed unencoded may hold "/", "?" or "#" (which is why the URL does not parse). */
function maskUpToLastAt(url: string): string {
  return url.replace(/\/\/([^:/@]*):.*@/, '//$1:***@');
}

/**
 * Whether an "@" follows the host: the end of a password that holds an unencoded "/", "?" or "#", which ended the
 * URL's user part early. When what comes before that character is all digits (`redis://app:4711/pw@host`) the URL
 * parses, with host `app`, port 4711 and no password at all: masked as it was parsed, the password was printed whole.
 */
export function hasAtAfterHost(parsed: URL): boolean {
  return `${parsed.pathname}${parsed.search}${parsed.hash}`.includes('@');
}

/**
 * A function masking, in any text, the passwords of the URLs among `argv`: a URL given where a file name is expected,
 * or as an argument too many, is quoted back by the message that refuses it.
 */
export function argvMasker(argv: readonly string[]): (text: string) => string {
  const masks: [string, string][] = [];
  for (const arg of argv) {
    // `--to=<url>` as well as `<url>`.
    for (const value of new Set([arg, arg.slice(arg.indexOf('=') + 1)])) {
      const masked = maskUrl(value);
      if (masked !== value) masks.push([value, masked]);
    }
  }
  if (masks.length === 0) return (text) => text;
  // Longest first: a URL that contains another is masked whole.
  masks.sort(([a], [b]) => b.length - a.length);
  return (text) => masks.reduce((out, [value, masked]) => out.split(value).join(masked), text);
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
