import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { ArrivingPage } from './arriving-page';

const head = { holder: { nodeId: 'L1', url: 'http://127.0.0.1:1' }, contentType: 'application/json', length: 6, rowsTotal: 30 };

/** The holder's answer as a stream: what ArrivingPage reads of an IncomingMessage. */
function answer(): PassThrough & IncomingMessage {
  return new PassThrough() as PassThrough & IncomingMessage;
}

async function pieces(page: ArrivingPage): Promise<string[]> {
  const seen: string[] = [];
  for await (const piece of page.body()) seen.push(piece.toString());
  return seen;
}

describe('ArrivingPage', () => {
  it('gives what came before it was taken in one piece, then each later piece as it comes, and says when it is complete', async () => {
    const holder = answer();
    const page = new ArrivingPage(head, holder);
    holder.write('ab');
    holder.write('cd');
    await new Promise((resolve) => setImmediate(resolve));
    const reading = pieces(page);
    await new Promise((resolve) => setImmediate(resolve));
    holder.end('ef');
    expect(await reading).toEqual(['abcd', 'ef']);
    await page.arrived;
    expect(page.complete).toBe(true);
  });

  it('fails the reader when the holder\'s answer breaks off, and is not complete', async () => {
    const holder = answer();
    const page = new ArrivingPage(head, holder);
    holder.write('ab');
    const reading = pieces(page);
    holder.destroy(new Error('holder went away'));
    await expect(reading).rejects.toThrow('holder went away');
    await page.arrived;
    expect(page.complete).toBe(false);
  });

  it('cancel stops reading the holder\'s answer', async () => {
    const holder = answer();
    const page = new ArrivingPage(head, holder);
    page.cancel();
    await page.arrived;
    expect([holder.destroyed, page.complete]).toEqual([true, false]);
  });
});
