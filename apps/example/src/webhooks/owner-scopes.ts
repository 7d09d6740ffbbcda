/** Injection token of the owners' tenant scopes (`Map<ownerId, scope>`, from WEBHOOKS_OWNER_SCOPES). */
export const OWNER_SCOPES = Symbol('OWNER_SCOPES');
