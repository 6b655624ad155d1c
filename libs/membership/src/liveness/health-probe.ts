/**
 * Whether a node answers its /health as the given incarnation within the timeout. A restarted
 * node on the same URL answers as another incarnation: that one is gone.
 */
export async function answersAs(httpUrl: string, incarnation: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return false;
    const body = (await response.json()) as { incarnation?: string };
    return body.incarnation === incarnation;
  } catch {
    return false;
  }
}
