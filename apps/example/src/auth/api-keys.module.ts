import { type DynamicModule, Module } from '@nestjs/common';
import { API_KEYS, ApiKeys } from './api-keys.js';

/** The API keys, global: the API's guard and the dashboard's guard (resolved in the dashboard's module) both read them. */
@Module({})
export class ApiKeysModule {
  static register(keys: ApiKeys): DynamicModule {
    return { module: ApiKeysModule, global: true, providers: [{ provide: API_KEYS, useValue: keys }], exports: [API_KEYS] };
  }
}
