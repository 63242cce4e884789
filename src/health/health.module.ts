import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BusModule } from '../bus/bus.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), BusModule],
  controllers: [HealthController],
})
export class HealthModule {}
