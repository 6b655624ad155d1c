import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Where the document and its page are served (README, "OpenAPI"). */
export const OPENAPI_JSON_PATH = '/lensapi/openapi.json';
export const API_DOCS_PATH = '/docs';

/**
 * Builds the OpenAPI document of every route this node serves, from the controllers' @ApiRoute
 * decorators, once at start, and serves it at /lensapi/openapi.json with a Swagger UI page at
 * /docs (its files from swagger-ui-dist in node_modules, not a CDN). Only a node serving the
 * Lens client routes (the gateway, ADR 19) serves it; answers whether
 * it does. Call it before app.init(), so its routes come before Nest's not-found handler.
 */
export function serveOpenApi(app: NestExpressApplication): OpenAPIObject | undefined {
  const config = new DocumentBuilder()
    .setTitle('Quarry')
    .setDescription(
      'The Apache Lens REST API as Quarry serves it, plus its own cluster and node routes. Lens answers are XML by default, JSON with Accept: application/json; ' +
        'errors carry the Lens code in the x-lens-error-code header. Node-to-node routes (/internal) are not reachable through the balancer.',
    )
    .setVersion('0.1.0')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  if (!Object.keys(document.paths).some((path) => path.startsWith('/lensapi/'))) return undefined;
  SwaggerModule.setup(API_DOCS_PATH.slice(1), app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    raw: ['json'],
    customSiteTitle: 'Quarry API',
  });
  return document;
}
