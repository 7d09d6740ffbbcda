import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One problem found in a request: which field, and what is wrong with it. */
export class ApiErrorDetail {
  @ApiProperty({ example: 'url', description: 'A body property or query parameter (dotted for nested ones)' })
  field!: string;

  @ApiProperty({ example: 'url must be shorter than or equal to 2048 characters' })
  message!: string;
}

/**
 * The one error shape of the API: every 4xx and 5xx answer, whether it comes from validation, the body parser,
 * a guard, the router or the library.
 */
export class ApiError {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400, description: 'The HTTP status, repeated' })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request', description: 'The reason phrase of the status' })
  error!: string;

  @ApiProperty({
    example: 'url must be shorter than or equal to 2048 characters',
    description: 'What is wrong, for people; one string (with several problems: the first of each field, joined by "; ")',
  })
  message!: string;

  @ApiPropertyOptional({ example: 'url', description: 'The field the error is about, when there is one (the first, with several)' })
  field?: string;

  @ApiPropertyOptional({ type: [ApiErrorDetail], description: 'Every problem found, when the request was refused by validation' })
  details?: ApiErrorDetail[];
}

/** An error answer before its reason phrase is added. */
export type ApiErrorAnswer = Omit<ApiError, 'error'>;
