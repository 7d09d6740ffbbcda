import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const read = (name: string) => readFileSync(dir + name, 'utf8');

/** A test CA and a receiver certificate for localhost / 127.0.0.1 / ::1 / receiver.test / public.example. */
export const testTls = {
  ca: read('ca.pem'),
  cert: read('receiver.pem'),
  key: read('receiver.key'),
  /** A self-signed certificate no test CA vouches for. */
  untrustedCert: read('untrusted.pem'),
  untrustedKey: read('untrusted.key'),
};
