/** A loopback HTTP server for media URLs: answers with `respond(path)` and records every path asked for. */
export function fileServer(respond: (path: string) => Response): { server: ReturnType<typeof Bun.serve>; fetched: string[] } {
  const fetched: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      fetched.push(path);
      return respond(path);
    },
  });
  return { server, fetched };
}
