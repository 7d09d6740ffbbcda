import { Injectable } from '@nestjs/common';

/**
 * The library's source of time. Every timestamp, due time and lease goes through it, so tests can drive time
 * by overriding this provider (a true boundary, like the DNS resolver).
 */
@Injectable()
export class WebhookClock {
  now(): Date {
    return new Date();
  }
}
