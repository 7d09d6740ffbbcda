/**
 * A TypeORM `EntityManager`: pass TypeORM's own. The library's public types name it by the members they rely on,
 * so that an application on the memory store compiles against them without the `typeorm` package; the code that
 * runs queries through it reads it as the full `EntityManager` (`toEntityManager`).
 */
export interface WebhookEntityManager {
  readonly connection: object;
  readonly queryRunner?: object;
}
