import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResourceReader, ResourceRefused } from './resource-reader';

describe('ResourceReader (real files)', () => {
  const base = mkdtempSync(join(tmpdir(), 'quarry-reader-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  const reader = new ResourceReader([root], 1024);

  beforeAll(() => {
    mkdirSync(join(root, 'jars'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'jars', 'udf.jar'), 'jar bytes');
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(2048));
    writeFileSync(join(outside, 'secret'), 'no');
    symlinkSync(join(outside, 'secret'), join(root, 'escape'));
    symlinkSync(join(root, 'jars', 'udf.jar'), join(root, 'alias.jar'));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const refusal = async (path: string) => {
    const error = await reader.read(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceRefused);
    return (error as Error).message;
  };

  it('reads a file under a root by absolute path, relative path or file: URI, with its sha256', async () => {
    const expected = createHash('sha256').update('jar bytes').digest('hex');
    for (const path of [join(root, 'jars/udf.jar'), 'jars/udf.jar', pathToFileURL(join(root, 'jars/udf.jar')).href, join(root, 'alias.jar')]) {
      const read = await reader.read(path);
      expect([path, read.sha256, read.content.toString()]).toEqual([path, expected, 'jar bytes']);
    }
  });

  it('refuses paths outside the roots, however they try', async () => {
    expect(await refusal(join(outside, 'secret'))).toContain('outside the resource roots');
    expect(await refusal(join(root, 'escape'))).toContain('outside the resource roots');
    expect(await refusal(`${root}/../outside/secret`)).toContain('may not contain ..');
    expect(await refusal('hdfs://namenode/x.jar')).toContain('only local files');
    expect(await refusal(root)).toContain('outside the resource roots');
  });

  it('answers a path outside the roots the same whether or not it exists', async () => {
    const outsideAnswer = (path: string) => `resource ${path} is outside the resource roots (${root})`;
    for (const path of [join(outside, 'secret'), join(outside, 'absent'), '/etc/shadow', '/no/such/file']) {
      expect(await refusal(path)).toBe(outsideAnswer(path));
    }
  });

  it('refuses missing files, folders and files over the size limit', async () => {
    expect(await refusal(join(root, 'none.jar'))).toContain('does not exist');
    expect(await refusal(join(root, 'jars'))).toContain('not a regular file');
    expect(await refusal(join(root, 'big.bin'))).toContain('the limit is 1024');
  });

  it('refuses everything when no roots are configured', async () => {
    await expect(new ResourceReader([], 1024).read(join(root, 'jars/udf.jar'))).rejects.toThrow('no resource roots are configured');
  });
});
