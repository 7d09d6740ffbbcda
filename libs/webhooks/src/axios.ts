/** The axios transport (`delivery.transport: 'axios'`), for applications that want axios on the wire. Needs `axios`. */
export { AxiosWebhookTransport } from './send/transport/axios.transport.js';
