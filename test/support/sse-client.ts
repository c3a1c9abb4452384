/** A dashboard's live stream (`GET /api/stream`) read as a test would: every event kept, in order, until it ends. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

export interface LiveStream {
  events: StreamEvent[];
  /** Resolves when the stream ends: the server ended it, or (with `error` set) the connection broke. */
  ended: Promise<void>;
  error?: Error;
  close(): void;
}

export async function openStream(baseUrl: string, cookie: string): Promise<LiveStream> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/api/stream`, { headers: { cookie }, signal: abort.signal });
  if (response.status !== 200 || !response.body)
    throw new Error(`stream answered ${response.status} for ${cookie.slice(0, 12)}…`);
  const events: StreamEvent[] = [];
  const stream: LiveStream = { events, ended: Promise.resolve(), close: () => abort.abort() };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const ended = (async (): Promise<void> => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) events.push({ event, data: JSON.parse(data) });
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') stream.error = error as Error;
    }
  })();
  stream.ended = ended;
  return stream;
}
