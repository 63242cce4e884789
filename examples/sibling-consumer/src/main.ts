import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { AppModule } from './app.module';
import { EnvelopeDeserializer } from './envelope';

async function bootstrap(): Promise<void> {
  const url = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const exchange = process.env.RABBITMQ_EXCHANGE ?? 'panora.events';
  // Our own durable queue: events published while we are down wait in it.
  const queue = process.env.QUEUE ?? 'sibling-consumer.events';

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
    transport: Transport.RMQ,
    options: {
      urls: [url],
      queue,
      queueOptions: { durable: true },
      exchange,
      exchangeType: 'topic',
      // Binds the queue to the exchange with each @EventPattern as routing key (wildcards allowed).
      wildcards: true,
      noAck: false,
      prefetchCount: 20,
      deserializer: new EnvelopeDeserializer(),
    },
  });
  app.enableShutdownHooks();
  await app.listen();
  new Logger('SiblingConsumer').log(`Consuming queue ${queue} bound to exchange ${exchange}`);
}

void bootstrap();
