import { Controller, Get, Header } from '@nestjs/common';
import { ApiRoute, QuarryMetrics } from '@quarry/platform';

@Controller()
export class MetricsController {
  constructor(private readonly metrics: QuarryMetrics) {}

  @ApiRoute({ tag: 'node', summary: 'Prometheus metrics', answer: { mediaType: 'text/plain' } })
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
