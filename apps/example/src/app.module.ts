import { Controller, Get, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { WebhooksModule } from '@app/webhooks';

@Controller()
class HealthController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }
}

@Module({
  imports: [EventEmitterModule.forRoot({ wildcard: true }), WebhooksModule.forRoot({})],
  controllers: [HealthController],
})
export class AppModule {}
