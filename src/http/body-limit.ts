import type { MiddlewareHandler } from "hono";
import { collectCapped } from "../media/store.ts";

/**
 * A request body capped before it is read, for every route of an app: a Content-Length
 * above the route's limit is refused (413) before one byte of the body is read, and a
 * body without a length (chunked) is read with a hard cap and refused the moment it
 * passes it. Routes that read no body get limit 0: a body there is never buffered.
 *
 * hono's own `bodyLimit` counts the same way but buffers a chunked body even where no
 * route reads one, and keeps its reader locked after a refusal; this one cancels the stream.
 */
export function capBodies(limitFor: (method: string, path: string) => number): MiddlewareHandler {
  return async (c, next) => {
    const limit = limitFor(c.req.method, c.req.path);
    // No Connection: close: the runtime drains what follows (memory stays flat) and the
    // client reads the 413, where a close with unread bytes would reset it unanswered.
    const tooLarge = () => c.text(`request body too large: ${c.req.method} ${c.req.path} takes at most ${limit} bytes\n`, 413);
    if (c.req.header("transfer-encoding") === undefined) {
      const length = c.req.header("content-length");
      return length !== undefined && Number(length) > limit ? tooLarge() : next();
    }
    // A body without a length: refused outright where none is read, else counted as it comes.
    if (limit === 0) return tooLarge();
    const body = c.req.raw.body;
    if (!body) return next();
    // Leaving the loop early ends the iterator, which cancels the stream.
    const read = await collectCapped(body, limit, () => {});
    if (read === null) return tooLarge();
    c.req.raw = new Request(c.req.raw, { body: read as Uint8Array<ArrayBuffer> });
    return next();
  };
}

