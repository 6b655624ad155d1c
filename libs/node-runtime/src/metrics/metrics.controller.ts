import { Controller, Get, Header } from '@nestjs/common';
import { QuarryMetrics } from '@quarry/platform';

@Controller()
export class MetricsController {
  constructor(private readonly metrics: QuarryMetrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
