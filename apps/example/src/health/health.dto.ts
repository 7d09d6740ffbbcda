import { ApiProperty } from '@nestjs/swagger';

/** How much delivery work this process holds. */
export class DeliveryQueueState {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Attempts waiting for a slot in this process' }) queued!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Requests in flight' }) active!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Tries whose outcome is being recorded' }) recording!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Background tasks (post-commit publishing)' }) background!: number;
  @ApiProperty({ description: "This process's identity in attempt leases" }) worker!: string;
}

/** GET /health. */
export class HealthResponse {
  @ApiProperty({ enum: ['ok', 'error'] }) status!: 'ok' | 'error';
  @ApiProperty({ enum: ['up', 'down'] }) database!: 'up' | 'down';
  @ApiProperty({ type: DeliveryQueueState }) deliveryQueue!: DeliveryQueueState;
}
