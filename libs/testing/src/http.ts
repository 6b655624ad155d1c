export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

/** GET a JSON document; network errors surface as exceptions (callers wait on them). */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<HttpAnswer<T>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}
