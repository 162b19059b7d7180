// Package audiocache fetches the audio files of TwiML <Play> and keeps them on
// disk, honouring HTTP caching the way Twilio's caching proxies do: "Twilio
// will cache files when HTTP headers allow it (via ETag and Last-Modified
// headers). Responding with Cache-Control: no-cache will ensure Twilio always
// checks to see if the file has changed", and max-age tells it how long a file
// may be used without asking (Twilio support: "How can I change the cache
// behavior of audio files?"; the seed's "Twilio is a well-behaved HTTP
// client": files are cached as a browser would).
//
// Cache.Get(ctx, url) returns an Entry: a local file, its Content-Type and
// size. The cache follows RFC 9111 as a shared cache:
//
//   - Freshness (section 4.2): the lifetime is s-maxage, else max-age, else
//     Expires minus Date; without any of them, a response with Last-Modified
//     is fresh for 10 % of the time since it was modified, at most 24 hours
//     (section 4.2.2). The age is computed as section 4.2.3 says (Age, Date,
//     and the request and response times). A fresh entry is served without a
//     request; an invalid max-age or Expires ("0") means already stale.
//   - Validation (section 4.3): a stale entry, or one marked no-cache, is
//     revalidated with If-None-Match (its ETag) and If-Modified-Since (its
//     Last-Modified). 304 Not Modified updates its header fields and starts
//     its freshness again, no body is transferred; 200 replaces it; 4xx drops
//     it; 5xx fails the Get and keeps it.
//   - Storing (section 3): a 200 is stored unless no-store or private says
//     not to, the URL carries credentials without public/s-maxage/
//     must-revalidate (3.5), Vary is "*" (4.1), or it has neither a freshness
//     lifetime nor a validator (it could never be reused). A response that is
//     not stored is still returned, as a temporary file the caller owns.
//   - Disconnected (section 4.2.4): if a stale entry cannot be revalidated
//     because the server cannot be reached, it is served (Outcome Stale, with
//     the error as Entry.Warning) unless must-revalidate, proxy-revalidate,
//     s-maxage or no-cache forbid it.
//
// Entries are keyed by the normalised URL (scheme and host lower-cased,
// default port and fragment dropped, empty path "/"). Concurrent Gets of one
// URL share one request, which runs until it ends or every waiter has given
// up. Each Entry must be released: a stored file is pinned until then, so
// eviction or replacement never deletes a file being played; an uncached
// (Outcome Uncached) temporary file is deleted by Release.
//
// On disk, each entry is a body file and a JSON sidecar holding the URL, the
// caching header fields and the request, response and last-use times. Both are
// written to temporary files, synced, and renamed into place; a replaced body
// gets a new name. New rebuilds the index from the sidecars, discarding any
// that fail to parse or do not match their body, so the cache survives
// restarts and crashes. The total size is bounded (Options.MaxBytes) by
// evicting the least recently used entries; one file is bounded by
// Options.MaxFileBytes, enforced from Content-Length and while reading, so an
// oversized body is never read past the bound.
//
// Only http and https URLs are fetched. Failures are *Error values carrying
// Twilio's error codes: 11100 (invalid URL), 11200 (a status other than 2xx or
// 304), 11205 (connection failure or Options.Timeout), 11206, 11210 (DNS),
// 11215 (more than MaxRedirects redirects), 11220 and 11235-11237 (TLS), 11750
// (larger than MaxFileBytes: Twilio has no <Play>-specific code, 11750 is the
// nearest) and 13420 ("Play: Invalid Content-Type": text/html, XML, an empty
// body...). Any audio/* type is accepted; application/octet-stream or a
// missing Content-Type is accepted when the body starts like WAV, MP3, AIFF or
// .snd audio, which then becomes the Entry's ContentType.
package audiocache
