import { ORDER_PAYLOAD_TYPE } from '../orders/order.entity.js';

/**
 * The payload types a subscription may name through the API: those of the example's own domain. Checked before the
 * library sees the name, so a client learns what it may choose rather than how a developer registers a type.
 */
export const API_PAYLOAD_TYPES: readonly string[] = [ORDER_PAYLOAD_TYPE];
