import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOmittable } from '../../common/validation.js';

export class CreateOrderDto {
  @ApiProperty({ example: 'book' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  item!: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: 1000000 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity!: number;
}

export class UpdateOrderDto {
  @ApiPropertyOptional({ example: 'book' })
  @IsOmittable()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  item?: string;

  @ApiPropertyOptional({ example: 3, minimum: 1, maximum: 1000000 })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity?: number;
}

export class OrderResponse {
  @ApiProperty() id!: string;
  @ApiProperty() item!: string;
  @ApiProperty() quantity!: number;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}
