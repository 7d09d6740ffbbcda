/** The axios transport (`delivery.transport: 'axios'`), for applications that want axios on the wire. Needs `axios`. */
export { AxiosWebhookTransport } from './delivery/transport/axios.transport.js';
