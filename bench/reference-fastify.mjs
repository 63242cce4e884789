// The ceiling: a bare Fastify route that parses the JSON body and answers {received: true}.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
app.post('/webhook', async () => ({ received: true }));
await app.listen({ port: Number(process.env.PORT ?? 3101), host: '127.0.0.1' });
process.send?.('ready');
