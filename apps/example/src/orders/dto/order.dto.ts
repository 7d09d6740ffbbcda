import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOmittable } from '../../common/validation.js';

export class CreateOrderDto {
  @ApiProperty({ example: 'book', minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  item!: string;

  @ApiProperty({ type: 'integer', example: 2, minimum: 1, maximum: 1_000_000 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity!: number;
}

export class UpdateOrderDto {
  @ApiPropertyOptional({ example: 'book', minLength: 1, maxLength: 200 })
  @IsOmittable()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  item?: string;

  @ApiPropertyOptional({ type: 'integer', example: 3, minimum: 1, maximum: 1_000_000 })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity?: number;
}

export class OrderResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() item!: string;
  @ApiProperty({ type: 'integer' }) quantity!: number;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}
