// gateway: the REST API for operators; translates requests to NATS jobs and catalog reads.
import 'reflect-metadata';
import { SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { connectMongoCatalog } from '@tresor/catalog';
import { baseConfigSchema, loadConfig, runService, start } from '@tresor/service';
import { CoreModule } from './core/core.module.js';
import { ErrorFilter } from './core/http-errors.js';
import { FEATURE_MODULES } from './gateway.module.js';
import { openApiDocument } from './openapi.js';

start(async () => {
  // Loopback only unless TRESOR_HTTP_HOST says otherwise (authentication comes with the security issue).
  const config = loadConfig(baseConfigSchema.extend({ TRESOR_HTTP_PORT: baseConfigSchema.shape.TRESOR_HTTP_PORT.default(8420) }));
  const mongo = await connectMongoCatalog(config.TRESOR_MONGODB_URL, config.TRESOR_MONGODB_DB, { readConcern: config.TRESOR_MONGODB_READ_CONCERN });
  await runService({
    name: 'gateway',
    config,
    async setup({ bus }) {
      return {
        imports: [CoreModule.forRoot({ bus, jobs: mongo.jobs, catalog: mongo.catalog, schedules: mongo.schedules }), ...FEATURE_MODULES],
        configureApp: (app) => {
          app.useGlobalFilters(new ErrorFilter());
          const document = openApiDocument() as unknown as OpenAPIObject;
          SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
        },
        stop: () => mongo.close(),
      };
    },
  });
});
