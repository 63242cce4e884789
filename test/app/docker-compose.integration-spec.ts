import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

/**
 * Reads docker-compose.yml with a real YAML parser (js-yaml, already installed by the toolchain:
 * no dependency of our own for one test) and checks what it exposes.
 */
const { load } = createRequire(__filename)('js-yaml') as { load(text: string): unknown };

const FILE = resolve(__dirname, '../../docker-compose.yml');
const SERVICE = 'panora-webhooks';

interface Service {
  image?: string;
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  environment?: Record<string, string | number | null> | string[];
}

interface Published {
  service: string;
  hostIp: string | undefined;
  hostPort: string | undefined;
  containerPort: string;
}

/** Every `ports:` entry, short syntax (`[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`) or long. */
function published(services: Record<string, Service>): Published[] {
  return Object.entries(services).flatMap(([service, definition]) =>
    (definition.ports ?? []).map((entry): Published => {
      if (typeof entry === 'object') {
        return {
          service,
          hostIp: entry.host_ip,
          hostPort: entry.published === undefined ? undefined : String(entry.published),
          containerPort: String(entry.target),
        };
      }
      const text = String(entry).replace(/\/(tcp|udp)$/, '');
      // An IPv6 host address is bracketed: [::1]:5672:5672.
      const match = /^(?:(\[[^\]]+\]|[^:]+):)??(?:([^:]*):)?([^:]+)$/.exec(text);
      if (!match) throw new Error(`unreadable ports entry in ${service}: ${text}`);
      return { service, hostIp: match[1], hostPort: match[2], containerPort: match[3] };
    }),
  );
}

const environment = (definition: Service): Record<string, string> =>
  Array.isArray(definition.environment)
    ? Object.fromEntries(
        definition.environment.map((item) => [item.split('=')[0], item.split('=').slice(1).join('=')] as const),
      )
    : Object.fromEntries(Object.entries(definition.environment ?? {}).map(([key, value]) => [key, String(value)]));

describe('docker-compose.yml', () => {
  const text = readFileSync(FILE, 'utf8');
  const compose = load(text) as { services: Record<string, Service> };
  const services = compose.services;

  it('should read as the three services', () => {
    expect(Object.keys(services).sort()).toEqual(['panora-webhooks', 'postgres', 'rabbitmq']);
  });

  it('should publish no broker management port and have no guest user anywhere', () => {
    expect(published(services).map((p) => p.containerPort)).not.toContain('15672');
    expect(text).not.toMatch(/15672/);
    expect(text).not.toMatch(/guest/i);
  });

  it('should bind every published port to 127.0.0.1, except the service’s own 3000', () => {
    const ports = published(services);
    expect(ports.length).toBeGreaterThan(0);
    const open = ports.filter(
      (p) => p.hostIp !== '127.0.0.1' && !(p.service === SERVICE && p.containerPort === '3000'),
    );
    expect(open).toEqual([]);
    // A bare container port would be published on every interface, on a random host port.
    expect(ports.filter((p) => p.hostPort === undefined || p.hostPort === '')).toEqual([]);
  });

  it('should take the broker user and password from the environment, and build the service’s RABBITMQ_URL from them', () => {
    const broker = environment(services.rabbitmq);
    expect(broker.RABBITMQ_DEFAULT_USER).toMatch(/^\$\{RABBITMQ_USER:\?.+\}$/);
    expect(broker.RABBITMQ_DEFAULT_PASS).toMatch(/^\$\{RABBITMQ_PASSWORD:\?.+\}$/);
    expect(environment(services[SERVICE]).RABBITMQ_URL).toBe(
      'amqp://${RABBITMQ_USER}:${RABBITMQ_PASSWORD}@rabbitmq:5672',
    );
  });

  it('should hand the service what NODE_ENV=production needs for /metrics (a token, or opened on purpose)', () => {
    const env = environment(services[SERVICE]);
    expect(env.NODE_ENV).toBe('production');
    expect(env.METRICS_TOKEN).toMatch(/^\$\{METRICS_TOKEN[:}]/);
    expect(env.METRICS_PUBLIC).toMatch(/^\$\{METRICS_PUBLIC[:}]/);
  });
});
