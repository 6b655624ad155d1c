import { startTestCluster, type TestCluster } from '@quarry/testing';

const OPENAPI_JSON = '/lensapi/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface Operation {
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
  parameters?: { name: string; in: string; required?: boolean }[];
}
type OpenApi = { openapi: string; paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>> };

/**
 * The OpenAPI document against what the node really serves: every route Express registered (as
 * the node logs them once Nest has mapped them, read from its router) is in the document, and
 * every documented operation is a route; the routes that serve the document itself aside. Two
 * nodes behind the balancer: L1 runs every service, L2 only the driver (no client routes, so no
 * document), each asked directly.
 */
describe('OpenAPI document and the routes served', () => {
  let stack: TestCluster;

  beforeAll(async () => {
    stack = await startTestCluster({ size: 2, nodeTargets: { L2: 'driver' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  function routesOf(nodeIndex: number): string[] {
    const line = stack.cluster.nodes[nodeIndex].process.allLines().find((l) => l.includes('"msg":"http routes"'));
    if (!line) throw new Error('the node did not log its routes');
    return (JSON.parse(line) as { routes: string[] }).routes;
  }

  const fetchDocument = async (baseUrl: string) => {
    const answer = await fetch(`${baseUrl}${OPENAPI_JSON}`);
    expect(answer.status).toBe(200);
    return (await answer.json()) as OpenApi;
  };

  it('documents every route the node serves, and serves every route it documents', async () => {
    const document = await fetchDocument(stack.cluster.nodes[0].url);
    expect(document.openapi).toBe('3.0.0');
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      METHODS.filter((m) => operations[m]).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const logged = routesOf(0);
    const servingTheDocument = logged.filter((r) => r === `GET ${OPENAPI_JSON}` || r.startsWith('GET /docs'));
    expect(servingTheDocument).toEqual(expect.arrayContaining([`GET ${OPENAPI_JSON}`, 'GET /docs']));
    const served = logged.filter((r) => !servingTheDocument.includes(r));
    expect(served.length).toBeGreaterThan(20);
    expect([...new Set(documented)].sort()).toEqual([...new Set(served)].sort());
    expect(documented).toHaveLength(new Set(documented).size);
  });

  it('describes the Lens multipart fields, the XML and JSON answers and the Lens error codes', async () => {
    const { paths } = await fetchDocument(stack.cluster.nodes[0].url);
    const open = paths['/lensapi/session'].post!;
    const form = open.requestBody!.content['multipart/form-data'].schema;
    expect(Object.keys(form.properties!)).toEqual(['username', 'password', 'database', 'sessionconf']);
    expect(form.required).toEqual(['username']);
    expect(Object.keys(open.responses['200'].content!)).toEqual(['application/xml', 'application/json']);
    expect(open.responses['401'].description).toContain('9001');
    expect(open.responses['429'].description).toMatch(/2004.*9008/);

    const submit = paths['/lensapi/queryapi/queries'].post!;
    expect(Object.keys(submit.requestBody!.content)).toEqual(['multipart/form-data', 'application/x-www-form-urlencoded']);
    expect(submit.requestBody!.content['multipart/form-data'].schema.required).toEqual(['sessionid', 'query']);
    expect(submit.responses['400'].description).toMatch(/2002.*2003/);

    const status = paths['/lensapi/queryapi/queries/{handle}'].get!;
    expect(status.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'handle', in: 'path' }), expect.objectContaining({ name: 'sessionid', in: 'query', required: true })]));
    expect(status.responses['404'].description).toContain('1003');
    expect(paths['/lensapi/queryapi/queries/{handle}/resultset'].get!.responses['410'].description).toContain('9002');
  });

  it('serves the docs page and its files from the node itself (no CDN)', async () => {
    const page = await fetch(`${stack.cluster.nodes[0].url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'swagger-ui-init.js']) {
      const answer = await fetch(`${stack.cluster.nodes[0].url}/docs/${asset}`);
      expect([asset, answer.status]).toEqual([asset, 200]);
      expect((await answer.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it('is not served by a node without client routes', async () => {
    const l2 = stack.cluster.nodes[1];
    expect(routesOf(1).filter((r) => r.includes('/lensapi/') || r.startsWith('GET /docs'))).toEqual([]);
    expect((await fetch(`${l2.url}${OPENAPI_JSON}`)).status).toBe(404);
  });
});
