import createDebug from 'debug';

/**
 * Debug log under the `MemFileStore` namespace (`DEBUG=MemFileStore`), as express-memfilestore 1.x.
 * Messages carry counts, sizes and timings only: never session contents or ids, which are credentials.
 */
export const log = createDebug('MemFileStore');
